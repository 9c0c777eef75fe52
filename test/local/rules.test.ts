/**
 * The exporter topology's rule file (pipeline/rules.ts, with the stack config's defaults) run by the real promtool
 * v3.13.5, built with Prometheus v3.13.5 by test/images/build.sh: `promtool check rules`, and `promtool test rules`
 * with series that make every alert fire at the moment its `for` says, and series where it must not fire (a spike
 * shorter than its `for`, or a healthy pipeline). The series are what statsd_exporter and Prometheus expose, every
 * 5 s (the scrape and evaluation interval); each alert's labels and annotations are compared exactly.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, it } from "node:test";
import { stringify } from "yaml";
import { DEFAULT_APP_NAME } from "../../app/src/metrics/catalog";
import { PROMETHEUS_RULES_FILE } from "../../pipeline/prometheus";
import { DEFAULT_ALERT_THRESHOLDS, prometheusRules, RULE_GROUPS, type RulesArgs } from "../../pipeline/rules";
import { SCRAPE_INTERVAL_SECONDS } from "../../pipeline/settings";
import { binaries } from "../../scripts/local/stacks";

const promtool = binaries.promtool();
const STEP = SCRAPE_INTERVAL_SECONDS;
/** With a retention size, so that the file has every alert the program can generate. */
const args: RulesArgs = { appName: DEFAULT_APP_NAME, thresholds: DEFAULT_ALERT_THRESHOLDS, retentionSize: "1GB" };
const GIB = 1024 ** 3;

/** A duration in promtool's notation, from seconds: 305 -> "5m5s". */
function at(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m > 0 ? `${m}m` : ""}${s > 0 || m === 0 ? `${s}s` : ""}`;
}

/**
 * A counter sampled every {@link STEP} seconds from 0 at t = 0, as promtool's expanding notation: `segments` are
 * [samples, increase per sample] in turn, e.g. [[60, 10], [1, 40]] rises by 10 per sample for 5 minutes, then by 40.
 */
function counter(segments: ReadonlyArray<readonly [samples: number, step: number]>, start = 0): string {
  let value = start;
  const parts = [String(start)];
  for (const [samples, step] of segments) {
    parts.push(`${value + step}+${step}x${samples - 1}`);
    value += samples * step;
  }
  return parts.join(" ");
}

const exporterTarget = { job: "statsd-exporter", instance: "statsd-exporter:9102" };
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
const series = (name: string, labels: Record<string, string>, values: string) => ({ series: `${name}{${labelText(labels)}}`, values });

/** The app's request counters, `{route="/", method="GET"}`, by status. */
const requests = (status: string, values: string) =>
  series("http_requests_total", { app_name: DEFAULT_APP_NAME, route: "/", method: "GET", status, ...exporterTarget }, values);

/** The request histogram's buckets (a subset of the catalog's is enough for histogram_quantile), per 5 s sample. */
const LES = ["4", "5", "7.5", "10", "+Inf"] as const;
function histogram(segments: ReadonlyArray<readonly [samples: number, perBucket: Readonly<Record<(typeof LES)[number], number>>]>) {
  return LES.map((le) =>
    series(
      "http_request_duration_seconds_bucket",
      { app_name: DEFAULT_APP_NAME, route: "/", method: "GET", status: "200", le, ...exporterTarget },
      counter(segments.map(([n, perBucket]) => [n, perBucket[le]] as const)),
    ),
  );
}
/** 10 requests per sample: all within 4-5 s (the sample API's slowest normal answers). */
const NORMAL = { "4": 0, "5": 10, "7.5": 10, "10": 10, "+Inf": 10 } as const;
/** 10 requests per sample: 9 within 4-5 s, 1 within 7.5-10 s (p99 9.75 s). */
const SLOW = { "4": 0, "5": 9, "7.5": 9, "10": 10, "+Inf": 10 } as const;

const up = (values: string) => series("up", exporterTarget, values);
const info = (values: string) => series("app_info", { app_name: DEFAULT_APP_NAME, version: "1.0.0", ...exporterTarget }, values);

interface AlertCheck {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: ReadonlyArray<{ exp_labels: Record<string, string>; exp_annotations: { summary: string; description: string } }>;
}

interface Scenario {
  readonly name: string;
  /** Whether the alert under test must fire in it. */
  readonly fires: boolean;
  readonly alert: string;
  readonly input_series: ReadonlyArray<{ series: string; values: string }>;
  readonly alert_rule_test: readonly AlertCheck[];
  readonly promql_expr_test?: ReadonlyArray<{ expr: string; eval_time: string; exp_samples: ReadonlyArray<{ labels: string; value: number }> }>;
}

/** statsd_exporter's four loss counters, in EXPORTER_LOSS_COUNTERS's order, with the given sample values each. */
const lossCounters = ([drops, sampleErrors, tagErrors, conflicts]: readonly [string, string, string, string]) => [
  series("statsd_exporter_udp_packet_drops_total", exporterTarget, drops),
  series("statsd_exporter_sample_errors_total", { reason: "malformed_line", ...exporterTarget }, sampleErrors),
  series("statsd_exporter_tag_errors_total", exporterTarget, tagErrors),
  series("statsd_exporter_events_conflict_total", { type: "counter", metric_name: "checkout_orders", ...exporterTarget }, conflicts),
];
const prometheusTarget = { job: "prometheus", instance: "localhost:9090" };
/** Prometheus's TSDB sizes (promtool notation) against a 1 GiB retention size. */
const tsdb = (v: { blocks: string; wal: string; head: string }) => [
  series("prometheus_tsdb_storage_blocks_bytes", prometheusTarget, v.blocks),
  series("prometheus_tsdb_wal_storage_size_bytes", prometheusTarget, v.wal),
  series("prometheus_tsdb_head_chunks_storage_size_bytes", prometheusTarget, v.head),
  series("prometheus_tsdb_retention_limit_bytes", prometheusTarget, `${GIB}x240`),
];
const none = (alertname: string, seconds: number): AlertCheck => ({ eval_time: at(seconds), alertname, exp_alerts: [] });

const lossDescription = (counter: string, value: string, extra = "") =>
  `${counter} rose by ${value} in the last 5m${extra}: statsd_exporter received events it could not turn into metrics, so the counts it serves are short.`;

/** Every scenario: the moment each alert fires, and series on which it must not. */
const scenarios: Scenario[] = [
  {
    name: "AppHighServerErrorRatio fires once 10% server errors have lasted 5m",
    fires: true,
    alert: "AppHighServerErrorRatio",
    // 9 requests answered 200 and 1 answered 500 every 5 s: the ratio is 10% from the second sample (t = 5 s) on.
    input_series: [requests("200", counter([[80, 9]])), requests("500", counter([[80, 1]]))],
    alert_rule_test: [
      none("AppHighServerErrorRatio", 300),
      {
        eval_time: at(305),
        alertname: "AppHighServerErrorRatio",
        exp_alerts: [
          {
            exp_labels: { app_name: "sample-api", severity: "critical" },
            exp_annotations: {
              summary: "sample-api answers 10% of requests with a server error (5xx)",
              description:
                'app_name:http_requests_server_errors:ratio_rate5m{app_name="sample-api"} = 10%: the share of http_requests_total with a 5xx status over 5m has been above 5% for 5m.',
            },
          },
        ],
      },
    ],
    promql_expr_test: [
      { expr: "app_name:http_requests:rate5m", eval_time: at(305), exp_samples: [{ labels: 'app_name:http_requests:rate5m{app_name="sample-api"}', value: 2 }] },
      {
        expr: "app_name:http_requests_server_errors:ratio_rate5m",
        eval_time: at(305),
        exp_samples: [{ labels: 'app_name:http_requests_server_errors:ratio_rate5m{app_name="sample-api"}', value: 0.1 }],
      },
    ],
  },
  {
    name: "AppHighServerErrorRatio stays pending through a burst of server errors that lifts the ratio above 5% for 4m50s",
    fires: false,
    alert: "AppHighServerErrorRatio",
    // 10 requests answered 200 every 5 s; at t = 305 s, 40 more answered 500 at once, then none.
    input_series: [requests("200", counter([[120, 10]])), requests("500", counter([[60, 0], [1, 40], [59, 0]]))],
    alert_rule_test: [305, 595, 600, 605].map((t) => none("AppHighServerErrorRatio", t)),
    promql_expr_test: [
      // The burst is in the 5-minute window from 305 s to 595 s: above the threshold for 290 s, less than `for`.
      ...[305, 595].map((t) => ({
        expr: "app_name:http_requests_server_errors:ratio_rate5m > bool 0.05",
        eval_time: at(t),
        exp_samples: [{ labels: '{app_name="sample-api"}', value: 1 }],
      })),
      { expr: "app_name:http_requests_server_errors:ratio_rate5m > bool 0.05", eval_time: at(600), exp_samples: [{ labels: '{app_name="sample-api"}', value: 0 }] },
    ],
  },
  {
    name: "AppHighServerErrorRatio never fires on the sample load's 2% of server errors",
    fires: false,
    alert: "AppHighServerErrorRatio",
    input_series: [requests("200", counter([[180, 49]])), requests("500", counter([[180, 1]]))],
    alert_rule_test: [305, 900].map((t) => none("AppHighServerErrorRatio", t)),
  },
  {
    name: "AppHighLatencyP99 fires once a p99 of 9.75 s has lasted 10m",
    fires: true,
    alert: "AppHighLatencyP99",
    input_series: histogram([[150, SLOW]]),
    alert_rule_test: [
      none("AppHighLatencyP99", 600),
      {
        eval_time: at(605),
        alertname: "AppHighLatencyP99",
        exp_alerts: [
          {
            exp_labels: { app_name: "sample-api", severity: "warning" },
            exp_annotations: {
              summary: "sample-api's 99th percentile latency is 9.75s",
              description:
                'app_name:http_request_duration_seconds:p99_rate5m{app_name="sample-api"} = 9.75s: the 99th percentile of http_request_duration_seconds over 5m (from the histogram) has been above 6s for 10m.',
            },
          },
        ],
      },
    ],
    promql_expr_test: [
      {
        expr: "app_name:http_request_duration_seconds:p99_rate5m",
        eval_time: at(605),
        exp_samples: [{ labels: 'app_name:http_request_duration_seconds:p99_rate5m{app_name="sample-api"}', value: 9.75 }],
      },
    ],
  },
  {
    name: "AppHighLatencyP99 does not fire on one slow minute, which lifts p99 above 6 s for 4m55s",
    fires: false,
    alert: "AppHighLatencyP99",
    // From 300 s to 360 s, 1 request in 10 takes 7.5-10 s. p99 is above 6 s while the 5-minute window holds more than
    // 1% slow requests, at least 6 of its 59 intervals: from 330 s to 625 s.
    input_series: histogram([[60, NORMAL], [12, SLOW], [150, NORMAL]]),
    alert_rule_test: [330, 625, 630, 930, 1200].map((t) => none("AppHighLatencyP99", t)),
    promql_expr_test: [
      ...[[325, 0], [330, 1], [625, 1], [630, 0]].map(([t, value]) => ({
        expr: "app_name:http_request_duration_seconds:p99_rate5m > bool 6",
        eval_time: at(t!),
        exp_samples: [{ labels: '{app_name="sample-api"}', value: value! }],
      })),
    ],
  },
  {
    name: "AppNotReporting fires 1m after the app's info gauge left statsd_exporter",
    fires: true,
    alert: "AppNotReporting",
    // The exporter drops the gauge (its TTL): the scrape after, at 125 s, marks the series stale.
    input_series: [up("1x60"), info("1x24 stale")],
    alert_rule_test: [
      none("AppNotReporting", 180),
      {
        eval_time: at(185),
        alertname: "AppNotReporting",
        exp_alerts: [
          {
            exp_labels: { app_name: "sample-api", severity: "critical" },
            exp_annotations: {
              summary: "sample-api is not reporting metrics",
              description:
                'app_info{app_name="sample-api"} has been absent for 1m while statsd_exporter is up (up{job="statsd-exporter"} = 1): the app has sent no info gauge for over 120s (it re-sends it every 15s; the exporter forgets it 60s after the last one). It is down, or cannot reach statsd_exporter\'s StatsD port.',
            },
          },
        ],
      },
    ],
  },
  {
    name: "AppNotReporting does not fire while the info gauge is present, nor on a 30 s gap in it",
    fires: false,
    alert: "AppNotReporting",
    input_series: [up("1x60"), info("1x24 stale _x4 1x30"), series("app_info", { app_name: "other-api", version: "2.0.0", ...exporterTarget }, "1x60")],
    alert_rule_test: [185, 300].map((t) => none("AppNotReporting", t)),
  },
  {
    name: "StatsdExporterDown fires after 1m of failed scrapes, and AppNotReporting does not",
    fires: true,
    alert: "StatsdExporterDown",
    input_series: [up("1x24 0x36"), info("1x24 stale")],
    alert_rule_test: [
      none("StatsdExporterDown", 180),
      {
        eval_time: at(185),
        alertname: "StatsdExporterDown",
        exp_alerts: [
          {
            exp_labels: { ...exporterTarget, severity: "critical" },
            exp_annotations: {
              summary: "statsd_exporter statsd-exporter:9102 is down",
              description:
                "up{job=\"statsd-exporter\"} = 0 for statsd-exporter:9102: Prometheus has failed to scrape statsd_exporter for 1m. StatsD events sent meanwhile are lost, and every app's metrics stop.",
            },
          },
        ],
      },
      none("AppNotReporting", 185),
    ],
  },
  {
    name: "StatsdExporterDown does not fire when statsd_exporter is back within 30 s",
    fires: false,
    alert: "StatsdExporterDown",
    input_series: [up("1x24 0x5 1x30")],
    alert_rule_test: [150, 185, 300].map((t) => none("StatsdExporterDown", t)),
  },
  {
    name: "StatsdExporterLosingEvents fires at the first rise of each loss counter, named in its labels",
    fires: true,
    alert: "StatsdExporterLosingEvents",
    input_series: lossCounters(["0x24 3x24", "0x24 3x24", "0x24 3x24", "0x24 3x24"]),
    alert_rule_test: [
      none("StatsdExporterLosingEvents", 120),
      {
        eval_time: at(125),
        alertname: "StatsdExporterLosingEvents",
        exp_alerts: [
          ["statsd_exporter_udp_packet_drops_total", {}, ""],
          ["statsd_exporter_sample_errors_total", { reason: "malformed_line" }, " (reason malformed_line)"],
          ["statsd_exporter_tag_errors_total", {}, ""],
          ["statsd_exporter_events_conflict_total", { type: "counter", metric_name: "checkout_orders" }, " (metric checkout_orders)"],
        ].map(([counter, labels, extra]) => ({
          exp_labels: { ...exporterTarget, ...(labels as Record<string, string>), counter: counter as string, severity: "warning" },
          exp_annotations: {
            summary: `statsd_exporter statsd-exporter:9102 is losing StatsD events (${counter})`,
            description: lossDescription(counter as string, "3", extra as string),
          },
        })),
      },
    ],
  },
  {
    name: "StatsdExporterLosingEvents does not fire on losses counted long ago (flat counters)",
    fires: false,
    alert: "StatsdExporterLosingEvents",
    input_series: lossCounters(["7x60", "7x60", "0x60", "7x60"]),
    alert_rule_test: [60, 300].map((t) => none("StatsdExporterLosingEvents", t)),
  },
  {
    name: "PrometheusRuleEvaluationFailures fires at the first failed evaluation",
    fires: true,
    alert: "PrometheusRuleEvaluationFailures",
    input_series: [
      series(
        "prometheus_rule_evaluation_failures_total",
        { job: "prometheus", instance: "localhost:9090", rule_group: "/etc/prometheus/rules.yml;statsd-stack-alerts" },
        "0x24 1x24",
      ),
    ],
    alert_rule_test: [
      none("PrometheusRuleEvaluationFailures", 120),
      {
        eval_time: at(125),
        alertname: "PrometheusRuleEvaluationFailures",
        exp_alerts: [
          {
            exp_labels: { job: "prometheus", instance: "localhost:9090", rule_group: "/etc/prometheus/rules.yml;statsd-stack-alerts", severity: "warning" },
            exp_annotations: {
              summary: "Prometheus failed to evaluate rules of group /etc/prometheus/rules.yml;statsd-stack-alerts",
              description:
                'prometheus_rule_evaluation_failures_total{rule_group="/etc/prometheus/rules.yml;statsd-stack-alerts"} rose by 1 in the last 5m: the recording rules or alerts of that group are missing or stale.',
            },
          },
        ],
      },
    ],
  },
  {
    name: "PrometheusRuleEvaluationFailures does not fire while every evaluation succeeds",
    fires: false,
    alert: "PrometheusRuleEvaluationFailures",
    input_series: [
      series("prometheus_rule_evaluation_failures_total", { job: "prometheus", instance: "localhost:9090", rule_group: "/etc/prometheus/rules.yml;statsd-stack-recording" }, "0x60"),
    ],
    alert_rule_test: [60, 300].map((t) => none("PrometheusRuleEvaluationFailures", t)),
  },
  {
    name: "StatsdSeriesFlood fires once an exporter has held more series than alertSeriesFlood (10,000) for 10m",
    fires: true,
    alert: "StatsdSeriesFlood",
    // statsd_exporter counts its series by type: 10,001 in all from t = 0.
    input_series: [
      series("statsd_exporter_metrics_total", { type: "counter", ...exporterTarget }, "8000x150"),
      series("statsd_exporter_metrics_total", { type: "gauge", ...exporterTarget }, "1000x150"),
      series("statsd_exporter_metrics_total", { type: "histogram", ...exporterTarget }, "1001x150"),
    ],
    alert_rule_test: [
      none("StatsdSeriesFlood", 595),
      {
        eval_time: at(600),
        alertname: "StatsdSeriesFlood",
        exp_alerts: [
          {
            exp_labels: { ...exporterTarget, severity: "warning" },
            exp_annotations: {
              summary: "statsd_exporter statsd-exporter:9102 holds 10k series",
              description:
                'sum by (job, instance) (statsd_exporter_metrics_total{job="statsd-exporter"}) = 10k: above 10000 (alertSeriesFlood) for 10m. A sender is creating new metric names or label values; each one costs the exporter memory until its TTL and Prometheus a series. Find the names on exporterMetricsUrl.',
            },
          },
        ],
      },
    ],
  },
  {
    name: "StatsdSeriesFlood does not fire on a 9-minute burst, nor on two exporters of 6,000 series each (the threshold is per exporter)",
    fires: false,
    alert: "StatsdSeriesFlood",
    input_series: [
      series("statsd_exporter_metrics_total", { type: "counter", ...exporterTarget }, "12000x107 300x150"),
      series("statsd_exporter_metrics_total", { type: "counter", job: "statsd-exporter", instance: "sample-api-0:9102" }, "6000x300"),
      series("statsd_exporter_metrics_total", { type: "counter", job: "statsd-exporter", instance: "sample-api-1:9102" }, "6000x300"),
    ],
    alert_rule_test: [300, 535, 600, 1200].map((t) => none("StatsdSeriesFlood", t)),
  },
  {
    name: "PrometheusStorageNearRetentionSize fires once the TSDB has held over 90% of the retention size for 15m",
    fires: true,
    alert: "PrometheusStorageNearRetentionSize",
    // 900 MB of blocks, 50 MB of WAL and 50 MB of head chunks against 1 GiB: 93.13 %.
    input_series: tsdb({ blocks: "900000000x240", wal: "50000000x240", head: "50000000x240" }),
    alert_rule_test: [
      none("PrometheusStorageNearRetentionSize", 895),
      {
        eval_time: at(900),
        alertname: "PrometheusStorageNearRetentionSize",
        exp_alerts: [
          {
            exp_labels: { ...prometheusTarget, severity: "warning" },
            exp_annotations: {
              summary: "Prometheus localhost:9090 uses 93.13% of its retention size",
              description:
                "The TSDB (prometheus_tsdb_storage_blocks_bytes + prometheus_tsdb_wal_storage_size_bytes + prometheus_tsdb_head_chunks_storage_size_bytes) has taken 93.13% of prometheus_tsdb_retention_limit_bytes (1GB) for 15m: beyond it Prometheus deletes its oldest blocks, so history is shorter than the retention time.",
            },
          },
        ],
      },
    ],
  },
  {
    name: "PrometheusStorageNearRetentionSize does not fire on 10 minutes above 90% (compaction shrinks it back), nor at 50%",
    fires: false,
    alert: "PrometheusStorageNearRetentionSize",
    // 95 % for 10 minutes, then 50 % (1 GiB = 1073741824 bytes).
    input_series: tsdb({ blocks: `${Math.round(0.95 * GIB)}x120 ${GIB / 2}x120`, wal: "0x240", head: "0x240" }),
    alert_rule_test: [300, 600, 900, 1195].map((t) => none("PrometheusStorageNearRetentionSize", t)),
  },
];

/** promtool's unit test file: the rule file beside it, evaluated every scrape interval, recording group first. */
function unitTests(ruleFile: string): string {
  return stringify(
    {
      rule_files: [ruleFile],
      evaluation_interval: `${STEP}s`,
      // Prometheus runs the groups concurrently, so the alerts read the recorded series at most one interval late;
      // promtool runs them in this order at each evaluation.
      group_eval_order: [RULE_GROUPS.recording, RULE_GROUPS.alerting],
      fuzzy_compare: true,
      tests: scenarios.map(({ name, input_series, alert_rule_test, promql_expr_test }) => ({
        name,
        interval: `${STEP}s`,
        input_series,
        alert_rule_test,
        ...(promql_expr_test ? { promql_expr_test } : {}),
      })),
    },
    { lineWidth: 0 },
  );
}

function run(...argv: string[]) {
  const result = spawnSync(promtool.path, argv, { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes `rules` and the unit tests into a new folder; returns the test file's path. */
function writeFiles(rules: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-rules-"));
  writeFileSync(path.join(dir, PROMETHEUS_RULES_FILE), stringify(rules, { lineWidth: 0 }));
  const tests = path.join(dir, "rules.test.yml");
  writeFileSync(tests, unitTests(PROMETHEUS_RULES_FILE));
  return tests;
}

describe("alert rules under the real promtool", { skip: promtool.skip }, () => {
  const rules = prometheusRules(args);
  let tests = "";
  before(() => {
    tests = writeFiles(rules);
  });

  it("has a case where each alert fires and one where it must not, for every alert in the rule file", () => {
    const alerts = rules.groups[1]!.rules.map((r) => r.alert);
    for (const alert of alerts) {
      assert.ok(scenarios.some((s) => s.alert === alert && s.fires && s.alert_rule_test.some((c) => c.alertname === alert && c.exp_alerts.length > 0)), `${alert}: no case where it fires`);
      assert.ok(scenarios.some((s) => s.alert === alert && !s.fires && s.alert_rule_test.every((c) => c.exp_alerts.length === 0)), `${alert}: no case where it must not fire`);
    }
    assert.deepEqual([...new Set(scenarios.map((s) => s.alert))], alerts);
  });

  it("promtool check rules accepts the generated rule file", () => {
    const result = run("check", "rules", path.join(path.dirname(tests), PROMETHEUS_RULES_FILE));
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: 13 rules found/);
  });

  it("promtool test rules: every alert fires at the moment its `for` says, with its labels and annotations, and never on the quiet cases", () => {
    const result = run("test", "rules", tests);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  it("the same tests fail on a rule file whose alert waits too little, or lacks an alert", () => {
    const early = prometheusRules({ ...args, thresholds: { ...args.thresholds, serverErrorFor: "4m" } });
    const tooEarly = run("test", "rules", writeFiles(early));
    assert.equal(tooEarly.status, 1, tooEarly.output);
    assert.match(tooEarly.output, /alertname: AppHighServerErrorRatio, time: 5m, \n\s+exp:\[\], \n\s+got:\[\n\s+0:/);

    const missing = { groups: [rules.groups[0]!, { ...rules.groups[1]!, rules: rules.groups[1]!.rules.filter((r) => r.alert !== "StatsdExporterDown") }] };
    const withoutOne = run("test", "rules", writeFiles(missing));
    assert.equal(withoutOne.status, 1, withoutOne.output);
    assert.match(withoutOne.output, /alertname: StatsdExporterDown, time: 3m5s/);
  });
});
