/**
 * The graphite topology's alert rules (pipeline/grafana-alerting.ts) on the real pipeline, on 127.0.0.1: the app ->
 * Etsy statsd -> carbon-cache -> graphite-web, with the program's files (scripts/local/stacks.ts). Grafana cannot run
 * here, so each rule is evaluated as Grafana would (scripts/checks/grafana-rules.ts): its Graphite query POSTed to
 * graphite-web's /render with the rule's range and maxDataPoints, then its reduce and threshold. One stack serves
 * every case, with one app per kind of load (each app its own metric prefix and name), driven at the same time.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { APP_LABEL, catalog, DEFAULT_APP_NAME, DEFAULT_METRIC_PREFIX, STATSD_TYPE_SUFFIX, wireType } from "../../app/src/metrics/catalog";
import { graphiteKey, graphiteSegment } from "../../app/src/metrics/names";
import { IO_TASK_MS } from "../../app/src/routes";
import { waitFor } from "../../app/src/tools/wait";
import { graphiteDashboard } from "../../dashboards/graphite";
import { grafanaAlertRules, type GrafanaAlertRule } from "../../pipeline/grafana-alerting";
import { graphitePaths } from "../../pipeline/graphite";
import { DEFAULT_ALERT_THRESHOLDS, type AlertThresholds } from "../../pipeline/rules";
import { GraphiteApi } from "../../scripts/checks/backends";
import { evaluateGraphiteRule, type RuleEvaluation } from "../../scripts/checks/grafana-rules";
import { graphiteStatValues, type StatValue } from "../../scripts/checks/panel-values";
import { graphiteRequestsSince } from "../../scripts/checks/traffic";
import { ProcessGroup } from "../../scripts/local/processes";
import { binaries, startAppProcess, startGraphiteStack, type AppIdentity, type GraphiteStack } from "../../scripts/local/stacks";
import { sendStatsd } from "../support/udp";

const missing = [binaries.carbonCache(), binaries.graphiteWeb()].find((b) => b.skip)?.skip || false;

/**
 * The default server-error threshold (5 %), and a latency threshold of 1 s: the sample API's slowest endpoint stays
 * under the default 6 s, so a slow route (/io_task, 2 s) is made to cross a lower one.
 */
const THRESHOLDS: AlertThresholds = { ...DEFAULT_ALERT_THRESHOLDS, latencyP99Seconds: 1 };

/** The apps: each gets one kind of load and its own prefix, so their windows never mix. */
const APPS = {
  normal: { metricPrefix: DEFAULT_METRIC_PREFIX, appName: DEFAULT_APP_NAME },
  failing: { metricPrefix: "failing_api", appName: "failing-api" },
  slow: { metricPrefix: "slow_api", appName: "slow-api" },
  stopped: { metricPrefix: "stopped_api", appName: "stopped-api" },
  neverStarted: { metricPrefix: "never_api", appName: "never-api" },
  upgraded: { metricPrefix: "upgraded_api", appName: "upgraded-api" },
} as const satisfies Record<string, AppIdentity>;

/** The version the app reports: app/package.json's. */
const APP_VERSION = (JSON.parse(readFileSync(path.join(__dirname, "..", "..", "app", "package.json"), "utf8")) as { version: string }).version;

/** The upgraded app's previous version: it reported once, then the running version replaced it. */
const OLD_VERSION = "0.9.0";

/** The info line an app of `version` sends in the Graphite style, from the catalog as the app builds it. */
function infoLine(app: AppIdentity, version: string): string {
  const key = graphiteKey(catalog.info, { [APP_LABEL]: app.appName, version });
  return `${app.metricPrefix}.${key}:1|${STATSD_TYPE_SUFFIX[wireType(catalog.info, "graphite")]}`;
}

const FAILING_REQUESTS = 600;
const NORMAL_REQUESTS = 300;
const SLOW_REQUESTS = 10;
/** New counter names the flood case sends. */
const FLOOD_NAMES = 200;
/** Counts reach a query within two statsd flushes and one moving-window step: 30 s is ample. */
const COUNTED_WITHIN_MS = 40_000;
/** The stopped app's last info report leaves the 60 s window within about 80 s of its stop. */
const NOT_REPORTING_WITHIN_MS = 110_000;

function rulesOf(app: AppIdentity): Record<string, GrafanaAlertRule> {
  return Object.fromEntries(grafanaAlertRules({ ...app, thresholds: THRESHOLDS }).map((r) => [r.title, r]));
}

/** GETs `path` `count` times, `concurrency` at a time; the statuses and the slowest request as the client saw them. */
async function drive(url: string, path: string, count: number, concurrency: number): Promise<{ statuses: number[]; slowestMs: number }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const started = performance.now();
      const res = await fetch(`${url}${path}`);
      await res.text();
      slowestMs = Math.max(slowestMs, performance.now() - started);
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { statuses, slowestMs };
}

/** The one series' reduced value of an evaluation that returned one series. */
function valueOf(evaluation: RuleEvaluation): number {
  assert.equal(evaluation.series.length, 1, `expected one series, got ${JSON.stringify(evaluation.series)}`);
  return evaluation.series[0]!.value;
}

describe("graphite topology: Grafana's alert rules evaluated on real graphite-web", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: GraphiteStack;
  let failing: { statuses: number[] };
  let slow: { slowestMs: number };
  /** The stopped app's rule, evaluated every 2 s from its stop until it fires: [seconds after the stop, value, state]. */
  let stoppedTrace: Promise<Array<[seconds: number, value: number, state: string]>>;
  /** The upgraded app's Version panel, read every 2 s from the old version's report: [seconds after it, shown]. */
  let upgradeTrace: Promise<Array<[seconds: number, shown: StatValue]>>;

  before(async () => {
    stack = await startGraphiteStack(group); // its app is the normal one
    // The stopped app sends its info report at start, then stops at once: the longest wait, so it starts first.
    const stopped = await startAppProcess(group, "graphite", stack.statsdPort, APPS.stopped);
    await stopped.proc.stop();
    const stoppedAt = Date.now();
    stoppedTrace = (async () => {
      const trace: Array<[number, number, string]> = [];
      await waitFor(async () => {
        const e = await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.stopped).AppNotReporting!);
        trace.push([Math.round((Date.now() - stoppedAt) / 1000), e.noData ? NaN : valueOf(e), e.state]);
        return e.state === "Alerting" && trace.some(([, v]) => v >= 1);
      }, NOT_REPORTING_WITHIN_MS, 2000);
      return trace;
    })();

    // An upgrade: the old version reported once and was replaced by the running one, which re-sends every 15 s.
    // statsd keeps writing the old version (as 0) until it restarts; the panel must show only the running one.
    await sendStatsd(stack.statsdPort, infoLine(APPS.upgraded, OLD_VERSION));
    const oldReportedAt = Date.now();
    await startAppProcess(group, "graphite", stack.statsdPort, APPS.upgraded);
    const versionPanel = async () => (await graphiteStatValues(new GraphiteApi(stack.graphiteUrl), graphiteDashboard(APPS.upgraded.metricPrefix), { prefix: APPS.upgraded.metricPrefix }, "-15min")).Version ?? null;
    const running = `${APPS.upgraded.appName}.${graphiteSegment(APP_VERSION)}`;
    upgradeTrace = (async () => {
      const trace: Array<[number, StatValue]> = [];
      await waitFor(async () => {
        const shown = await versionPanel();
        trace.push([Math.round((Date.now() - oldReportedAt) / 1000), shown]);
        return shown === running && trace.some(([, v]) => v !== null && v !== running);
      }, NOT_REPORTING_WITHIN_MS, 2000);
      return trace;
    })();

    const [failingApp, slowApp] = await Promise.all([
      startAppProcess(group, "graphite", stack.statsdPort, APPS.failing),
      startAppProcess(group, "graphite", stack.statsdPort, APPS.slow),
    ]);
    [failing, , slow] = await Promise.all([
      // /random_status answers 500 to 1 request in 10 (and 200, 300 or 400 to the others).
      drive(failingApp.url, "/random_status", FAILING_REQUESTS, 20),
      drive(stack.apiUrl, "/", NORMAL_REQUESTS, 10),
      drive(slowApp.url, "/io_task", SLOW_REQUESTS, SLOW_REQUESTS),
    ]);
  });
  after(() => group.stopAll());

  it("AppHighServerErrorRatio under a failing load: the query reads exactly the share of 5xx the client received, above the 5 % threshold", async (t) => {
    const expected = failing.statuses.filter((s) => s >= 500).length / FAILING_REQUESTS;
    assert.ok(expected > THRESHOLDS.serverErrorRatio, `the load itself was not failing: ${expected} of requests answered 5xx`);
    let last: RuleEvaluation | undefined;
    const counted = await waitFor(async () => {
      last = await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.failing).AppHighServerErrorRatio!);
      return !last.noData && valueOf(last) === expected;
    }, COUNTED_WITHIN_MS, 1000);
    assert.ok(counted, `expected ${expected}, last evaluation ${JSON.stringify(last)}`);
    assert.deepEqual(last!.series, [{ name: "server_error_ratio", value: expected, conditionMet: true }]);
    assert.equal(last!.state, "Alerting");
    t.diagnostic(`failing load: server_error_ratio = ${expected} (threshold ${THRESHOLDS.serverErrorRatio})`);
  });

  it("AppHighServerErrorRatio under a normal load (only /): the query reads 0, below the threshold", async () => {
    // Once Graphite has counted the load, so that the 0 is the load's, not an empty window's.
    const graphite = new GraphiteApi(stack.graphiteUrl);
    const counted = await waitFor(async () => (await graphiteRequestsSince(graphite, APPS.normal.metricPrefix)) >= NORMAL_REQUESTS, COUNTED_WITHIN_MS, 1000);
    assert.ok(counted, `Graphite did not count ${NORMAL_REQUESTS} requests of the normal app within ${COUNTED_WITHIN_MS} ms`);
    const last = await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.normal).AppHighServerErrorRatio!);
    assert.deepEqual(last.series, [{ name: "server_error_ratio", value: 0, conditionMet: false }]);
    assert.equal(last.state, "Normal");
  });

  it("AppHighLatencyP99 with a slow route (/io_task, 2 s): the query reads its p99 in seconds, above the 1 s threshold", async (t) => {
    let last: RuleEvaluation | undefined;
    const seen = await waitFor(async () => {
      last = await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.slow).AppHighLatencyP99!);
      return !last.noData && valueOf(last) > 0;
    }, COUNTED_WITHIN_MS, 1000);
    assert.ok(seen, `no p99 within ${COUNTED_WITHIN_MS} ms: ${JSON.stringify(last)}`);
    const p99 = valueOf(last!);
    // Ten requests in a flush: statsd's 99th percentile is the slowest of them, which the server timed at least
    // IO_TASK_MS and the client saw end no earlier than the server did.
    assert.ok(p99 >= IO_TASK_MS / 1000 && p99 <= slow.slowestMs / 1000, `p99 ${p99} s, slowest request seen by the client ${slow.slowestMs} ms`);
    assert.equal(last!.series[0]!.conditionMet, true);
    assert.equal(last!.state, "Alerting");
    t.diagnostic(`slow route: p99_seconds = ${p99} (threshold ${THRESHOLDS.latencyP99Seconds})`);
  });

  it("AppHighLatencyP99 with a fast route (/): the query reads a few milliseconds, below the threshold", async (t) => {
    let last: RuleEvaluation | undefined;
    await waitFor(async () => {
      last = await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.normal).AppHighLatencyP99!);
      return !last.noData && valueOf(last) > 0;
    }, COUNTED_WITHIN_MS, 1000);
    const p99 = valueOf(last!);
    assert.ok(p99 > 0 && p99 < 0.1, `p99 ${p99} s`);
    assert.equal(last!.series[0]!.conditionMet, false);
    assert.equal(last!.state, "Normal");
    t.diagnostic(`fast route: p99_seconds = ${p99}`);
  });

  it("an app that answered no request has no series for either service rule, and both stay Normal (noDataState OK)", async () => {
    const rules = rulesOf(APPS.stopped);
    for (const title of ["AppHighServerErrorRatio", "AppHighLatencyP99"]) {
      assert.deepEqual(await evaluateGraphiteRule(stack.graphiteUrl, rules[title]!), { series: [], noData: true, state: "Normal" }, title);
    }
  });

  it("AppNotReporting for a running app: the query counts its info reports of the last minute, and the rule does not fire", async () => {
    const e = await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.normal).AppNotReporting!);
    assert.equal(e.series[0]?.name, "info_reports");
    assert.ok(valueOf(e) >= 1, `info_reports ${valueOf(e)}`);
    assert.equal(e.state, "Normal");
  });

  it("AppNotReporting for an app that stopped: the query counts its report, then reads 0 and the rule fires", async (t) => {
    const trace = await stoppedTrace;
    // Until its first report reaches Graphite the app has no series at all (the case of the last test).
    const reported = trace.findIndex(([, v]) => v >= 1);
    assert.ok(reported >= 0, `the app's report was never counted: ${JSON.stringify(trace)}`);
    const firing = trace.findIndex(([, , state], i) => i > reported && state === "Alerting");
    assert.ok(firing >= 0, `never fired after its report: ${JSON.stringify(trace)}`);
    assert.deepEqual(trace[firing]!.slice(1), [0, "Alerting"]);
    t.diagnostic(`stopped app: info_reports 0 and the condition met ${trace[firing]![0]} s after the stop`);
  });

  it("the Version panel after an upgrade: both versions while the old one's report is in the last minute, then only the running one, though statsd still writes the old one as 0", async (t) => {
    const trace = await upgradeTrace;
    const old = `${APPS.upgraded.appName}.${graphiteSegment(OLD_VERSION)}`;
    const running = `${APPS.upgraded.appName}.${graphiteSegment(APP_VERSION)}`;
    const both = trace.findIndex(([, shown]) => shown === `${old}, ${running}` || shown === `${running}, ${old}`);
    assert.ok(both >= 0, `the old version was never shown beside the running one: ${JSON.stringify(trace)}`);
    const onlyRunning = trace.findIndex(([, shown], i) => i > both && shown === running);
    assert.ok(onlyRunning >= 0, `the old version never left the panel: ${JSON.stringify(trace)}`);
    const oldSeries = await new GraphiteApi(stack.graphiteUrl).render(`${graphitePaths(APPS.upgraded.metricPrefix).info}.${APPS.upgraded.appName}.${graphiteSegment(OLD_VERSION)}`, "-1min");
    const written = oldSeries.flatMap((s) => s.datapoints.map(([v]) => v).filter((v) => v !== null));
    assert.ok(written.length > 0 && written.every((v) => v === 0), `statsd should still write the old version as 0: ${JSON.stringify(oldSeries)}`);
    t.diagnostic(`upgraded app: the old version left the Version panel ${trace[onlyRunning]![0]} s after its report`);
  });

  it("AppNotReporting for an app that never reported: no series, and the rule fires (noDataState Alerting)", async () => {
    assert.deepEqual(await evaluateGraphiteRule(stack.graphiteUrl, rulesOf(APPS.neverStarted).AppNotReporting!), { series: [], noData: true, state: "Alerting" });
  });

  it("StatsdSeriesFlood: below the default for six apps after their load; 200 new names raise statsd's stats by exactly 200, and the rule fires above a threshold 1 below", async (t) => {
    const floodRule = (seriesFlood: number) => grafanaAlertRules({ ...APPS.normal, thresholds: { ...THRESHOLDS, seriesFlood } }).find((r) => r.title === "StatsdSeriesFlood")!;
    const before = await evaluateGraphiteRule(stack.graphiteUrl, floodRule(DEFAULT_ALERT_THRESHOLDS.seriesFlood));
    assert.equal(before.series[0]?.name, "stats_per_flush");
    const held = valueOf(before);
    assert.ok(held > 0 && held < DEFAULT_ALERT_THRESHOLDS.seriesFlood / 10, `stats_per_flush ${held}`);
    assert.equal(before.state, "Normal");
    t.diagnostic(`six apps after their load: statsd writes ${held} stats per flush`);

    // 200 counter names no app sends, 20 lines a datagram, as a client that puts an id in its names would.
    const names = Array.from({ length: FLOOD_NAMES }, (_, i) => `flood.order_${i}:1|c`);
    for (let i = 0; i < names.length; i += 20) await sendStatsd(stack.statsdPort, names.slice(i, i + 20).join("\n"));
    let after = held;
    const counted = await waitFor(async () => (after = valueOf(await evaluateGraphiteRule(stack.graphiteUrl, floodRule(1)))) >= held + FLOOD_NAMES, COUNTED_WITHIN_MS, 1000);
    assert.ok(counted, `stats_per_flush ${after}, expected ${held} + ${FLOOD_NAMES}`);
    assert.equal(after, held + FLOOD_NAMES);
    assert.equal((await evaluateGraphiteRule(stack.graphiteUrl, floodRule(held + FLOOD_NAMES - 1))).state, "Alerting");
    assert.equal((await evaluateGraphiteRule(stack.graphiteUrl, floodRule(held + FLOOD_NAMES))).state, "Normal");
  });
});
