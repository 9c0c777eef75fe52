/** The exporter topology's Prometheus rules: their names, expressions and annotations, from the catalog and the config. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { defaultOf } from "../../pipeline/config-keys";
import { EXPORTER_LOSS_COUNTERS, EXPORTER_OWN_METRICS, exporterMapping } from "../../pipeline/exporter";
import { PROMETHEUS_CONFIG_PATH, PROMETHEUS_RULES_FILE, PROMETHEUS_RULES_PATH, prometheusConfig } from "../../pipeline/prometheus";
import { DEFAULT_ALERT_THRESHOLDS, durationMs, INHIBITIONS, prometheusRules, prometheusRulesYaml, SERVICE_ALERTS, TSDB_SIZE_METRICS } from "../../pipeline/rules";

const thresholds = { serverErrorRatio: 0.125, serverErrorFor: "7m", latencyP99Seconds: 2.5, latencyFor: "15m", exporterDownFor: "2m", seriesFlood: 2500 };
/** With a retention size: every alert the program can generate. */
const file = prometheusRules({ appName: "shop-api", thresholds, retentionSize: "2GB" });
const [recording, alerting] = file.groups;
const alert = (name: string) => alerting.rules.find((r) => r.alert === name)!;

/** The metric names a PromQL expression reads: what is left once strings, matchers, ranges, groupings and functions are removed. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)].filter((m) => !m[2]).map((m) => m[1]!);
  return [...new Set(names.filter((n) => !["and", "or", "unless", "bool", "offset"].includes(n)))];
}

/** The names statsd_exporter serves for the catalog's metrics under the mapping: a histogram's three series. */
const mappedNames = exporterMapping("sample_api").mappings.flatMap((m) =>
  m.match_metric_type === "observer" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
);
/** The daemons' own metrics the rules read: statsd_exporter's loss counters, Prometheus's, and the scrape's `up`. */
const ownNames = ["up", ...EXPORTER_LOSS_COUNTERS, EXPORTER_OWN_METRICS.series, "prometheus_rule_evaluation_failures_total", ...TSDB_SIZE_METRICS, "prometheus_tsdb_retention_limit_bytes"];

describe("prometheus rules", () => {
  it("has a recording group, then an alerting group", () => {
    assert.deepEqual(file.groups.map((g) => g.name), ["statsd-stack-recording", "statsd-stack-alerts"]);
  });

  it("records request rate, server-error ratio and the dashboards' latency quantiles per app, named level:metric:operations", () => {
    assert.deepEqual(
      recording.rules.map((r) => r.record),
      [
        "app_name:http_requests:rate5m",
        "app_name:http_requests_server_errors:ratio_rate5m",
        "app_name:http_request_duration_seconds:p50_rate5m",
        "app_name:http_request_duration_seconds:p90_rate5m",
        "app_name:http_request_duration_seconds:p99_rate5m",
      ],
    );
    assert.equal(recording.rules[0]!.expr, "sum by (app_name) (rate(http_requests_total[5m]))");
    assert.equal(
      recording.rules[4]!.expr,
      "histogram_quantile(0.99, sum by (app_name, le) (rate(http_request_duration_seconds_bucket[5m])))",
    );
    for (const rule of recording.rules) assert.match(rule.expr, /sum by \(app_name(, le)?\)/, rule.record);
  });

  it("alerts on the service and on the pipeline, and nothing else", () => {
    assert.deepEqual(
      alerting.rules.map((r) => [r.alert, r.labels.severity, r.for ?? "at once"]),
      [
        ["AppHighServerErrorRatio", "critical", "7m"],
        ["AppHighLatencyP99", "warning", "15m"],
        ["AppNotReporting", "critical", "1m"],
        ["StatsdExporterDown", "critical", "2m"],
        ["StatsdExporterLosingEvents", "warning", "at once"],
        ["PrometheusRuleEvaluationFailures", "warning", "at once"],
        ["StatsdSeriesFlood", "warning", "10m"],
        ["PrometheusStorageNearRetentionSize", "warning", "15m"],
      ],
    );
  });

  it("gives every alert a summary, a description naming its metric, and a severity label", () => {
    for (const rule of alerting.rules) {
      assert.deepEqual(Object.keys(rule.annotations).sort(), ["description", "summary"], rule.alert);
      assert.ok(rule.annotations.summary.length > 0 && rule.annotations.description.length > 0, rule.alert);
      assert.ok(["critical", "warning"].includes(rule.labels.severity), rule.alert);
      const named = metricNames(rule.expr).filter((n) => n !== "up");
      assert.ok(
        named.length === 0 || named.some((n) => rule.annotations.description.includes(n)) || rule.annotations.description.includes("{{ $labels.counter }}"),
        `${rule.alert}'s description names none of ${named.join(", ")}`,
      );
      if (rule.alert !== "AppNotReporting") assert.match(rule.annotations.description, /\{\{ \$value( \| \w+)? \}\}/, rule.alert);
    }
  });

  it("puts the configured thresholds and durations in the service alerts", () => {
    assert.equal(alert("AppHighServerErrorRatio").expr, "app_name:http_requests_server_errors:ratio_rate5m > 0.125");
    assert.equal(alert("AppHighLatencyP99").expr, "app_name:http_request_duration_seconds:p99_rate5m > 2.5");
    assert.match(alert("AppHighServerErrorRatio").annotations.description, /above 12\.5% for 7m/);
    assert.match(alert("AppHighLatencyP99").annotations.description, /above 2\.5s for 15m/);
  });

  it("StatsdSeriesFlood compares each exporter's series with the configured threshold, and says so", () => {
    assert.equal(alert("StatsdSeriesFlood").expr, 'sum by (job, instance) (statsd_exporter_metrics_total{job="statsd-exporter"}) > 2500');
    assert.match(alert("StatsdSeriesFlood").annotations.description, /above 2500 \(alertSeriesFlood\) for 10m/);
  });

  it("watches the configured app's info gauge only while statsd_exporter is up", () => {
    assert.equal(alert("AppNotReporting").expr, 'absent(app_info{app_name="shop-api"}) and on () (up{job="statsd-exporter"} == 1)');
    assert.equal(alert("AppNotReporting").annotations.summary, "shop-api is not reporting metrics");
  });

  it("watches every statsd_exporter loss counter, each labelled with its name", () => {
    const expr = alert("StatsdExporterLosingEvents").expr;
    for (const counter of EXPORTER_LOSS_COUNTERS) {
      assert.ok(expr.includes(`label_replace(increase(${counter}{job="statsd-exporter"}[5m]), "counter", "${counter}", "", "") > 0`), counter);
    }
    assert.equal(expr.split(" or ").length, EXPORTER_LOSS_COUNTERS.length);
  });

  it("reads only metrics the exporter maps from the catalog, the daemons' own metrics, or its own recorded series", () => {
    const recorded = recording.rules.map((r) => r.record);
    for (const rule of [...recording.rules, ...alerting.rules]) {
      const name = "record" in rule ? rule.record : rule.alert;
      for (const metric of metricNames(rule.expr)) {
        assert.ok([...mappedNames, ...ownNames, ...recorded].includes(metric), `${name} reads ${metric}, which nothing exports`);
      }
    }
    // The extraction finds what it must, so the check above is not vacuous.
    assert.deepEqual(metricNames(recording.rules[1]!.expr), ["http_requests_total"]);
    assert.deepEqual(metricNames(alert("AppNotReporting").expr), ["app_info", "up"]);
  });

  it("is YAML whose defaults are the config keys' defaults", () => {
    assert.deepEqual(DEFAULT_ALERT_THRESHOLDS, {
      serverErrorRatio: Number(defaultOf("alertServerErrorRatio")),
      serverErrorFor: defaultOf("alertServerErrorFor"),
      latencyP99Seconds: Number(defaultOf("alertLatencyP99Seconds")),
      latencyFor: defaultOf("alertLatencyFor"),
      exporterDownFor: defaultOf("alertExporterDownFor"),
      seriesFlood: Number(defaultOf("alertSeriesFlood")),
    });
    assert.equal(DEFAULT_ALERT_THRESHOLDS.seriesFlood, 10_000);
    const yaml = prometheusRulesYaml({ appName: "sample-api", thresholds: DEFAULT_ALERT_THRESHOLDS });
    assert.match(yaml, /^# Generated from app\/src\/metrics\/catalog\.ts/);
    assert.deepEqual(parse(yaml), prometheusRules({ appName: "sample-api", thresholds: DEFAULT_ALERT_THRESHOLDS }));
  });

  it("is named by prometheus.yml relative to itself, and placed beside it", () => {
    assert.deepEqual(prometheusConfig({ exporters: { static: "e:9102" }, selfTarget: "localhost:9090" }).rule_files, [PROMETHEUS_RULES_FILE]);
    assert.equal(PROMETHEUS_RULES_PATH, path.posix.join(path.posix.dirname(PROMETHEUS_CONFIG_PATH), PROMETHEUS_RULES_FILE));
  });

  it("parses Prometheus durations as Prometheus does", () => {
    assert.deepEqual(["0", "90s", "5m", "1h30m", "2d", "1w", "1y", "500ms", "1m30s500ms"].map(durationMs), [
      0, 90_000, 300_000, 5_400_000, 172_800_000, 604_800_000, 31_536_000_000, 500, 90_500,
    ]);
    for (const bad of ["", "5", "5 m", "30m1h", "1.5h", "-5m", "5M", "m"]) assert.equal(durationMs(bad), undefined, bad);
  });
});

describe("the storage alert and the inhibitions", () => {
  it("PrometheusStorageNearRetentionSize exists only with a retention size, and names it", () => {
    const without = prometheusRules({ appName: "shop-api", thresholds }).groups[1].rules.map((r) => r.alert);
    assert.equal(without.includes("PrometheusStorageNearRetentionSize"), false);
    assert.match(alert("PrometheusStorageNearRetentionSize").annotations.description, /prometheus_tsdb_retention_limit_bytes \(2GB\)/);
    assert.equal(alert("PrometheusStorageNearRetentionSize").for, "15m");
  });

  it("StatsdExporterDown mutes exactly the service alerts, each of which is in the rule file", () => {
    const names = alerting.rules.map((r) => r.alert);
    assert.deepEqual(INHIBITIONS, [{ source: "StatsdExporterDown", targets: ["AppHighServerErrorRatio", "AppHighLatencyP99", "AppNotReporting"] }]);
    for (const name of [...SERVICE_ALERTS, "StatsdExporterDown"]) assert.ok(names.includes(name), name);
  });
});

describe("README's alert table", () => {
  it("lists every alert, and no other", () => {
    const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Alerts"), readme.indexOf("\n## ", readme.indexOf("## Alerts") + 1));
    const listed = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed, alerting.rules.map((r) => r.alert));
  });
});
