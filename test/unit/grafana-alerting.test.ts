/**
 * The graphite topology's Grafana alerting provisioning (pipeline/grafana-alerting.ts): the exact rules, contact
 * point and policy for a given config, and the Grafana stand-in's schema checks (test/images/grafana) run on them:
 * they accept the generated files and refuse each kind of mistake Grafana would refuse or silently mis-read.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { datasourcesYaml } from "../../pipeline/grafana";
import {
  grafanaAlertingFiles,
  grafanaAlertRules,
  grafanaAlertRulesFile,
  grafanaNotificationsFile,
  WEBHOOK_URL_ENV,
} from "../../pipeline/grafana-alerting";
import { alertingRules, SERVICE_ALERTS } from "../../pipeline/rules";
import { DATASOURCE_UIDS } from "../../pipeline/settings";

const args = {
  appName: "shop-api",
  metricPrefix: "shop",
  thresholds: { serverErrorRatio: 0.125, serverErrorFor: "7m", latencyP99Seconds: 2.5, latencyFor: "15m", exporterDownFor: "1m", seriesFlood: 2500 },
  routing: { groupWait: "10s", groupInterval: "2m", repeatInterval: "3h" },
};
const rules = grafanaAlertRules(args);
const rule = (title: string) => rules.find((r) => r.title === title)!;

/** The stand-in's checks, loaded as the module it also is. */
interface Standin {
  checkAlertingProvisioning(
    dir: string,
    datasources: readonly unknown[],
  ): { groups: Array<{ name: string; folder: string; rules: Array<{ uid: string; title: string; labels: Record<string, string> }> }>; contactPoints: Array<{ name: string; receivers: Array<{ uid: string; type: string; settings: Record<string, unknown> }> }>; policies: Array<Record<string, unknown>> };
  loadDatasources(dir: string): unknown[];
}
const standin = createRequire(__filename)("../images/grafana/grafana-standin.js") as Standin;

describe("grafana alert rules (graphite topology)", () => {
  it("are the exporter topology's three service alerts, by name, with its severities and the app's name as labels", () => {
    assert.deepEqual(rules.slice(0, 3).map((r) => r.title), [...SERVICE_ALERTS]);
    const severities = Object.fromEntries(alertingRules({ appName: "shop-api", thresholds: args.thresholds }).map((r) => [r.alert, r.labels.severity]));
    assert.deepEqual(
      rules.slice(0, 3).map((r) => [r.title, r.labels]),
      SERVICE_ALERTS.map((name) => [name, { severity: severities[name], app_name: "shop-api" }]),
    );
    assert.deepEqual(rules.map((r) => r.labels.severity), ["critical", "warning", "critical", "warning"]);
  });

  it("and its series flood alert, with its severity and no app label (it is the pipeline's, not one app's)", () => {
    assert.deepEqual(rules.map((r) => r.title), [...SERVICE_ALERTS, "StatsdSeriesFlood"]);
    assert.deepEqual(rule("StatsdSeriesFlood").labels, { severity: "warning" });
  });

  it("have fixed uids, so a new deployment updates each rule in place", () => {
    assert.deepEqual(rules.map((r) => r.uid), [
      "statsd-stack-AppHighServerErrorRatio",
      "statsd-stack-AppHighLatencyP99",
      "statsd-stack-AppNotReporting",
      "statsd-stack-StatsdSeriesFlood",
    ]);
    assert.deepEqual(grafanaAlertRules({ ...args, appName: "other" }).map((r) => r.uid), rules.map((r) => r.uid));
  });

  it("are one group, evaluated every statsd flush (10s), in the dashboards' folder", () => {
    const file = grafanaAlertRulesFile(args);
    assert.equal(file.apiVersion, 1);
    assert.deepEqual(file.groups.map((g) => [g.orgId, g.name, g.folder, g.interval, g.rules.length]), [[1, "statsd-stack-alerts", "statsd-stack", "10s", 4]]);
  });

  it("query Graphite with the app's prefix and name, exactly", () => {
    assert.deepEqual(
      rules.map((r) => r.data[0]!.model.target),
      [
        "alias(divideSeries(movingSum(sumSeries(stats_counts.shop.http_requests.*.*.5*, scale(sumSeries(stats_counts.shop.http_requests.*.*.*), 0)), '5min'), movingSum(sumSeries(stats_counts.shop.http_requests.*.*.*), '5min')), 'server_error_ratio')",
        "alias(scale(movingMax(maxSeries(stats.timers.shop.http_request_duration_ms.*.*.*.upper_99), '5min'), 0.001), 'p99_seconds')",
        "alias(transformNull(movingSum(sumSeries(stats_counts.shop.app_info.shop-api.*), '1min'), 0), 'info_reports')",
        "alias(movingMax(statsd.numStats, '1min'), 'stats_per_flush')",
      ],
    );
  });

  it("run each query on the Graphite datasource over the last 10 minutes with every point, take its last point (null as 0), and compare it", () => {
    const r = rule("AppHighServerErrorRatio");
    assert.equal(r.condition, "C");
    assert.deepEqual(r.data.map((q) => [q.refId, q.datasourceUid, q.relativeTimeRange]), [
      ["A", DATASOURCE_UIDS.graphite, { from: 600, to: 0 }],
      ["B", "__expr__", undefined],
      ["C", "__expr__", undefined],
    ]);
    assert.deepEqual(
      { ...r.data[0]!.model, target: "..." },
      { refId: "A", target: "...", datasource: { type: "graphite", uid: "statsd-stack-graphite" }, intervalMs: 10000, maxDataPoints: 43200 },
    );
    assert.deepEqual(r.data[1]!.model, {
      refId: "B",
      type: "reduce",
      expression: "A",
      reducer: "last",
      settings: { mode: "replaceNN", replaceWithValue: 0 },
      datasource: { type: "__expr__", uid: "__expr__" },
    });
    for (const other of rules) assert.deepEqual(other.data[1], r.data[1], other.title);
  });

  it("fire above the configured thresholds after the configured durations, AppNotReporting below one report after 1m, StatsdSeriesFlood after 10m", () => {
    assert.deepEqual(
      rules.map((r) => [r.title, r.data[2]!.model.expression, r.data[2]!.model.conditions, r.for]),
      [
        ["AppHighServerErrorRatio", "B", [{ evaluator: { type: "gt", params: [0.125] } }], "7m"],
        ["AppHighLatencyP99", "B", [{ evaluator: { type: "gt", params: [2.5] } }], "15m"],
        ["AppNotReporting", "B", [{ evaluator: { type: "lt", params: [1] } }], "1m"],
        ["StatsdSeriesFlood", "B", [{ evaluator: { type: "gt", params: [2500] } }], "10m"],
      ],
    );
  });

  it("treat no series as nothing to judge for the service ratios and the series count, as a missing app for AppNotReporting, and a failing query as a datasource error", () => {
    assert.deepEqual(
      rules.map((r) => [r.title, r.noDataState, r.execErrState, r.isPaused]),
      [
        ["AppHighServerErrorRatio", "OK", "Error", false],
        ["AppHighLatencyP99", "OK", "Error", false],
        ["AppNotReporting", "Alerting", "Error", false],
        ["StatsdSeriesFlood", "OK", "Error", false],
      ],
    );
  });

  it("summarise and describe each alert with the Graphite paths it reads, the configured values and the measured one", () => {
    assert.deepEqual(rule("AppHighServerErrorRatio").annotations, {
      summary: "shop-api answers {{ humanizePercentage $values.B.Value }} of requests with a server error (5xx)",
      description:
        "The share of shop-api's requests answered 5xx over 5m (stats_counts.shop.http_requests.<route>.<method>.5xx over all of " +
        "stats_counts.shop.http_requests) is {{ humanizePercentage $values.B.Value }}: it has been above 12.5% for 7m.",
    });
    assert.deepEqual(rule("AppHighLatencyP99").annotations, {
      summary: "shop-api's 99th percentile latency is {{ humanizeDuration $values.B.Value }}",
      description:
        "The highest 99th percentile of http_request_duration_ms that statsd computed for any route of shop-api in a flush of the last 5m " +
        "(stats.timers.shop.http_request_duration_ms.<route>.<method>.<status>.upper_99) is {{ humanizeDuration $values.B.Value }}: " +
        "it has been above 2.5s for 15m.",
    });
    assert.deepEqual(rule("AppNotReporting").annotations, {
      summary: "shop-api is not reporting metrics",
      description:
        "stats_counts.shop.app_info.shop-api.<version> has counted no report for 60s, for 1m ({{ $values.B.Value }} reports in the last minute; " +
        "the app re-sends its info metric every 15s). It is down, or cannot reach statsd's StatsD port.",
    });
    assert.deepEqual(rule("StatsdSeriesFlood").annotations, {
      summary: "statsd holds {{ humanize $values.B.Value }} stats",
      description:
        "statsd.numStats = {{ humanize $values.B.Value }}: statsd has written more than 2500 stats (alertSeriesFlood) in a flush of each minute for 10m. " +
        "A sender is creating new metric names; statsd keeps each until graphiteOwnMetricsExpiry, and carbon a whisper file for each " +
        "until graphiteOwnMetricsPruneAfter. Find them in graphite-web's metric tree.",
    });
  });

  it("use $ only where Grafana does not expand environment variables: in annotations and query models", () => {
    for (const r of rules) {
      const { annotations: _a, data, ...expanded } = r;
      assert.doesNotMatch(JSON.stringify(expanded), /\$/, r.title);
      assert.doesNotMatch(JSON.stringify(data.map((q) => ({ ...q, model: undefined }))), /\$/, r.title);
    }
  });
});

describe("grafana notifications (graphite topology)", () => {
  it("send every alert to the webhook contact point, grouped by alert and app, with the configured timers", () => {
    assert.deepEqual(grafanaNotificationsFile(args.routing), {
      apiVersion: 1,
      contactPoints: [
        {
          orgId: 1,
          name: "statsd-stack-webhook",
          receivers: [{ uid: "statsd-stack-webhook", type: "webhook", settings: { url: "${STATSD_STACK_ALERT_WEBHOOK_URL}", httpMethod: "POST" }, disableResolveMessage: false }],
        },
      ],
      policies: [{ orgId: 1, receiver: "statsd-stack-webhook", group_by: ["alertname", "app_name"], group_wait: "10s", group_interval: "2m", repeat_interval: "3h" }],
    });
  });

  it("with a webhook: a rules file and a notifications file whose URL is a reference to Grafana's environment, never the URL", () => {
    const files = grafanaAlertingFiles({ ...args, webhook: true });
    assert.deepEqual(Object.keys(files), ["statsd-stack-rules.yaml", "statsd-stack-notifications.yaml"]);
    assert.equal(parse(files["statsd-stack-notifications.yaml"]!).contactPoints[0].receivers[0].settings.url, `\${${WEBHOOK_URL_ENV}}`);
    assert.doesNotMatch(Object.values(files).join("\n"), /https?:/);
  });

  it("without a webhook: only the rules file, no contact point and no policy", () => {
    const files = grafanaAlertingFiles({ ...args, webhook: false });
    assert.deepEqual(Object.keys(files), ["statsd-stack-rules.yaml"]);
    assert.deepEqual(Object.keys(parse(files["statsd-stack-rules.yaml"]!)), ["apiVersion", "groups"]);
  });
});

describe("the Grafana stand-in's alerting checks, on the generated files", () => {
  const dirs: string[] = [];
  after(() => {
    delete process.env[WEBHOOK_URL_ENV];
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const datasources = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "grafana-ds-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, "ds.yaml"), datasourcesYaml([{ name: "Graphite", uid: DATASOURCE_UIDS.graphite, type: "graphite", url: "http://graphite:8080" }]));
    return standin.loadDatasources(dir);
  };
  /** The generated files, each changed by `edit` (a YAML document as an object), in a fresh folder. */
  const folderWith = (files: Record<string, string>, edit: (name: string, doc: any) => void = () => {}) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "grafana-alerting-"));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) {
      const doc = parse(content);
      edit(name, doc);
      writeFileSync(path.join(dir, name), stringify(doc));
    }
    return dir;
  };
  const check = (dir: string) => standin.checkAlertingProvisioning(dir, datasources());
  const withWebhook = grafanaAlertingFiles({ ...args, webhook: true });
  const rulesOnly = grafanaAlertingFiles({ ...args, webhook: false });
  const firstRule = (doc: any) => doc.groups?.[0]?.rules[0];

  it("accept the rules, the contact point and the policy, with the webhook URL read from Grafana's environment", () => {
    process.env[WEBHOOK_URL_ENV] = "https://hooks.example.com/alerts?token=t0k3n";
    const found = check(folderWith(withWebhook));
    assert.deepEqual(found.groups.map((g) => [g.name, g.folder, g.rules.map((r) => r.uid)]), [["statsd-stack-alerts", "statsd-stack", rules.map((r) => r.uid)]]);
    assert.deepEqual(found.contactPoints.map((cp) => [cp.name, cp.receivers.map((r) => [r.uid, r.type, r.settings.url])]), [
      ["statsd-stack-webhook", [["statsd-stack-webhook", "webhook", "https://hooks.example.com/alerts?token=t0k3n"]]],
    ]);
    assert.deepEqual(found.policies, [{ receiver: "statsd-stack-webhook", group_by: ["alertname", "app_name"], group_wait: "10s", group_interval: "2m", repeat_interval: "3h" }]);
  });

  it("accept the rules alone (no webhook), leaving notifications to Grafana's defaults", () => {
    delete process.env[WEBHOOK_URL_ENV];
    const found = check(folderWith(rulesOnly));
    assert.deepEqual([found.groups.length, found.contactPoints, found.policies], [1, [], []]);
  });

  it("refuse a contact point whose URL variable is not set in Grafana's environment (Grafana would post to nowhere)", () => {
    delete process.env[WEBHOOK_URL_ENV];
    assert.throws(() => check(folderWith(withWebhook)), /refers to the environment variable STATSD_STACK_ALERT_WEBHOOK_URL, which is not set/);
  });

  const refusals: Array<[string, (name: string, doc: any) => void, RegExp]> = [
    ["a condition naming no refId of the data", (_n, doc) => void (firstRule(doc) && (firstRule(doc).condition = "D")), /condition D is not a refId of the rule's data \(A, B, C\)/],
    ["a query on a datasource that is not provisioned", (_n, doc) => void (firstRule(doc) && (firstRule(doc).data[0].datasourceUid = "prometheus")), /datasourceUid prometheus is not a provisioned datasource \(statsd-stack-graphite\)/],
    ["a reduce reading a refId that does not exist", (_n, doc) => void (firstRule(doc) && (firstRule(doc).data[1].model.expression = "Z")), /B reads Z, which is not a refId/],
    ["a `for` that is not a duration", (_n, doc) => void (firstRule(doc) && (firstRule(doc).for = "5 minutes")), /for "5 minutes" is not a duration/],
    ["a group interval that is not a multiple of 10s", (_n, doc) => void (doc.groups && (doc.groups[0].interval = "15s")), /interval 15s must be a positive multiple of 10s/],
    ["a relative time range ending before it starts", (_n, doc) => void (firstRule(doc) && (firstRule(doc).data[0].relativeTimeRange = { from: 0, to: 600 })), /relativeTimeRange must have whole seconds from > to >= 0/],
    ["an unknown noDataState", (_n, doc) => void (firstRule(doc) && (firstRule(doc).noDataState = "Firing")), /noDataState "Firing" is not one of NoData, Alerting, OK, KeepLast/],
    ["a threshold without its number", (_n, doc) => void (firstRule(doc) && (firstRule(doc).data[2].model.conditions[0].evaluator.params = [])), /params must hold 1 number/],
    ["a label Grafana would expand ($labels in a label value)", (_n, doc) => void (firstRule(doc) && (firstRule(doc).labels.team = "{{ $labels.team }}")), /refers to the environment variable labels, which is not set/],
    ["two rules with one uid", (_n, doc) => void (doc.groups && (doc.groups[0].rules[1].uid = doc.groups[0].rules[0].uid)), /alert rule uid statsd-stack-AppHighServerErrorRatio is provisioned twice/],
    ["a policy routing to a contact point that does not exist", (_n, doc) => void (doc.policies && (doc.policies[0].receiver = "pager")), /receiver "pager" is not a contact point \(grafana-default-email, statsd-stack-webhook\)/],
    ["a policy grouping by something that is not a label name", (_n, doc) => void (doc.policies && (doc.policies[0].group_by = ["app-name"])), /group_by "app-name" is not a label name/],
    ["a webhook with a method Grafana does not send", (_n, doc) => void (doc.contactPoints && (doc.contactPoints[0].receivers[0].settings.httpMethod = "GET")), /httpMethod must be POST or PUT/],
  ];
  for (const [what, edit, message] of refusals) {
    it(`refuse ${what}`, () => {
      process.env[WEBHOOK_URL_ENV] = "https://hooks.example.com/alerts";
      assert.throws(() => check(folderWith(withWebhook, edit)), message);
    });
  }

  it("refuse a file Grafana cannot read as YAML or JSON", () => {
    const dir = folderWith(rulesOnly);
    writeFileSync(path.join(dir, "README.txt"), "notes");
    assert.throws(() => check(dir), /README\.txt: an alerting provisioning file must end in \.yaml, \.yml or \.json/);
  });
});
