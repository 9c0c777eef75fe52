/**
 * The exporter topology end to end, for real on 127.0.0.1: the app (DogStatsD) -> statsd_exporter (v0.30.0, as
 * the image) -> Prometheus (Debian's 2.42: Prometheus 3 cannot be built with `go install`), with the generated
 * mapping and Prometheus config. Grafana is the one piece not run: its queries are run against Prometheus instead.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { catalog, DEFAULT_APP_NAME } from "../app/src/metrics/catalog";
import { exporterLosses, PrometheusApi } from "../scripts/checks/backends";
import { checkPrometheusDashboard, variableValues, type QueryCheck } from "../scripts/checks/dashboard-queries";
import { asObject, delta, prometheusCounts, sendKnownLoad, settle, type Counts, type KnownLoad } from "../scripts/checks/traffic";
import { prometheusDashboard } from "../dashboards/prometheus";
import { waitFor } from "../app/test/helpers";
import { binaries, startExporterStack, type ExporterStack } from "./support/local-stacks";
import { ProcessGroup } from "./support/processes";

const missing = [binaries.statsdExporter(), binaries.prometheus()].find((b) => b.skip)?.skip || false;

describe("exporter topology end to end", { skip: missing }, () => {
  const group = new ProcessGroup();
  const requestsMetric = catalog.requests.prometheusName;
  let stack: ExporterStack;
  let prom: PrometheusApi;
  let load: KnownLoad;
  let counted: Counts;
  let firstResultSeconds: number | undefined;
  let panels: QueryCheck[];

  before(async () => {
    stack = await startExporterStack(group);
    prom = new PrometheusApi(stack.prometheusUrl);
    const baseline = await prometheusCounts(prom, requestsMetric, DEFAULT_APP_NAME);
    let sentAt = 0;
    const firstResult = waitFor(async () => {
      if (sentAt === 0) return false;
      const found = (await prom.query(`sum(${requestsMetric}{app_name="${DEFAULT_APP_NAME}"})`)).length > 0;
      if (found) firstResultSeconds = (Date.now() - sentAt) / 1000;
      return found;
    }, 120_000, 250);
    load = await sendKnownLoad(stack.apiUrl, { requests: 600, vus: 30, unknownPaths: 20, onStart: () => (sentAt = Date.now()) });
    counted = await settle(
      async () => delta(await prometheusCounts(prom, requestsMetric, DEFAULT_APP_NAME), baseline, load.expected),
      load.expected,
      30_000,
    );
    await firstResult;
    panels = await checkPrometheusDashboard(
      prom,
      prometheusDashboard(),
      { app_name: DEFAULT_APP_NAME, __rate_interval: "20s", __range: "30m" },
      { start: Math.floor(load.startedAt) - 10, end: Math.ceil(Date.now() / 1000) },
    );
  });
  after(() => group.stopAll());

  it("Prometheus counts exactly the requests sent, by route and status", () => {
    assert.equal(load.total, 620);
    assert.deepEqual(asObject(counted), asObject(load.expected));
  });

  it("every query of every panel returns data", () => {
    const empty = panels.filter((p) => !p.ok).map((p) => `${p.panel} ${p.refId}: ${p.query} -> ${p.detail}`);
    assert.deepEqual(empty, []);
    // 4 stats, rate by route, error ratio, p50/p90/p99, average by route, p99 by route.
    assert.equal(panels.length, 11);
  });

  it("the app_name variable, fed by the info gauge, lists the app", async () => {
    assert.deepEqual(await variableValues(prometheusDashboard(), prom), [DEFAULT_APP_NAME]);
  });

  it("statsd_exporter lost nothing: no unmapped, conflicting, erroneous, dropped or discarded events", async () => {
    assert.deepEqual(await exporterLosses(stack.exporterMetricsUrl), {
      statsd_exporter_events_unmapped_total: 0,
      statsd_exporter_events_conflict_total: 0,
      statsd_exporter_sample_errors_total: 0,
      statsd_exporter_udp_packet_drops_total: 0,
      'statsd_exporter_events_actions_total{action="drop"}': 0,
    });
  });

  it("reports the time from the first request to the first query result (target <= 15 s)", (t) => {
    assert.ok(firstResultSeconds !== undefined, "no query result within 120 s");
    t.diagnostic(`exporter topology: first query result ${firstResultSeconds.toFixed(1)} s after the first request`);
  });
});
