/**
 * The exporter topology end to end, for real on 127.0.0.1: the app (DogStatsD) -> statsd_exporter (v0.30.0, as
 * the image) -> Prometheus (v3.13.5, the image's version, built from the Go module proxy by test/images/build.sh),
 * with the generated mapping and Prometheus config. Grafana is the one piece not run: its queries are run against Prometheus instead.
 * The checks are the ones `npm run smoke` runs against a deployed stack.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { catalog, DEFAULT_APP_NAME, LATENCY_BUCKETS_SECONDS } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { prometheusDashboard } from "../../dashboards/prometheus";
import { exporterHealthDashboard } from "../../dashboards/pipeline-health-prometheus";
import { EXPORTER_LOSS_COUNTERS, EXPORTER_OWN_METRICS } from "../../pipeline/exporter";
import { PROMETHEUS_OWN_METRICS, prometheusConfig, SCRAPE_SERIES } from "../../pipeline/prometheus";
import { SCRAPE_INTERVAL_SECONDS } from "../../pipeline/settings";
import { panelByTitle, queryOf } from "../../dashboards/model";
import { metricsTextTotal, PrometheusApi } from "../../scripts/checks/backends";
import { failedPanels, substitute } from "../../scripts/checks/dashboard-queries";
import { prometheusStatValues } from "../../scripts/checks/panel-values";
import { asObject, countMismatches } from "../../scripts/checks/traffic";
import { verifyExporterStack, type StackVerification } from "../../scripts/checks/verify-stack";
import { binaries, startAppProcess, startExporterStack, type ExporterStack } from "../../scripts/local/stacks";
import { ProcessGroup } from "../../scripts/local/processes";
import { sendStatsd } from "../support/udp";

/** The version the app reports: app/package.json's. */
const APP_VERSION = (JSON.parse(readFileSync(path.join(__dirname, "..", "..", "app", "package.json"), "utf8")) as { version: string }).version;

/** The histogram bucket bounds around a latency interval: where histogram_quantile can place it. */
function latencyBucketBounds(low: number, high: number): { lower: number; upper: number } {
  const bounds = [0, ...LATENCY_BUCKETS_SECONDS];
  return { lower: [...bounds].reverse().find((b) => b <= low) ?? 0, upper: bounds.find((b) => b >= high) ?? Infinity };
}

/** How much later than the server the load's client may see a request end (see each use). */
const CLIENT_LATENESS_ALLOWANCE_MS = 3000;

const missing = [binaries.statsdExporter(), binaries.prometheus()].find((b) => b.skip)?.skip || false;

describe("exporter topology end to end", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: ExporterStack;
  let result: StackVerification;

  before(async () => {
    stack = await startExporterStack(group);
    result = await verifyExporterStack(stack, { requests: 600, vus: 30, unknownPaths: 20 });
  });
  after(() => group.stopAll());

  it("Prometheus counts exactly the requests sent, by route, method and status, and nothing else of the app moves", () => {
    assert.equal(result.load.total, 620);
    assert.deepEqual(countMismatches(result.load.expected, result.before, result.after), []);
    assert.deepEqual(asObject(result.counted), asObject(result.load.expected));
  });

  it("every query of every panel returns data", () => {
    assert.deepEqual(failedPanels(result.panels), []);
    // 4 stats, rate by route, 4xx and 5xx ratios, p50/p90/p99, average by route, p99 by route.
    assert.equal(result.panels.length, 12);
  });

  it("the app_name variable, fed by the info gauge, lists the app", () => {
    assert.deepEqual(result.variable, [DEFAULT_APP_NAME]);
  });

  it("statsd_exporter lost nothing: no dropped packets, malformed lines, bad tags or conflicting events", () => {
    assert.deepEqual(result.losses, {
      statsd_exporter_udp_packet_drops_total: 0,
      statsd_exporter_sample_errors_total: 0,
      statsd_exporter_tag_errors_total: 0,
      statsd_exporter_events_conflict_total: 0,
    });
  });

  it("maps every event the app sent: none left for the exporter's default naming", async () => {
    const text = await (await fetch(stack.exporterMetricsUrl)).text();
    assert.equal(metricsTextTotal(text, "statsd_exporter_events_unmapped_total"), 0);
  });

  it("a query result arrives within 120 s of the first request, and the time it took is printed (README's figure)", (t) => {
    assert.ok(result.firstResultSeconds !== undefined, "no query result within 120 s");
    t.diagnostic(`exporter topology: first query result ${result.firstResultSeconds.toFixed(1)} s after the first request`);
  });

  for (const [range, seconds] of [["15 minutes", 900], ["12 hours", 43_200]] as const) {
    it(`each stat panel shows exactly what the load makes it show, over ${range}`, async () => {
      const shown = await prometheusStatValues(new PrometheusApi(stack.prometheusUrl), prometheusDashboard(), { app_name: DEFAULT_APP_NAME }, seconds);
      const serverErrors = [...result.load.expected].filter(([k]) => k.endsWith(" 500")).reduce((n, [, v]) => n + v, 0);
      const p99 = result.load.summary.latencyMs.p99 / 1000;
      // The histogram can only place the 99th percentile within its bucket; the client saw each request later than
      // the server by both processes' event-loop delays (seconds on a loaded 2-core machine, never less than 0).
      const bucket = latencyBucketBounds(p99 - CLIENT_LATENESS_ALLOWANCE_MS / 1000, p99);
      const { "p99 latency in range": estimate, ...exact } = shown;
      assert.deepEqual(exact, { "Requests in range": 620, "Server errors in range": serverErrors / 620, Version: APP_VERSION });
      assert.ok(typeof estimate === "number" && estimate >= bucket.lower && estimate <= bucket.upper, `p99 ${estimate} s not in [${bucket.lower}, ${bucket.upper}] (client p99 ${p99} s)`);
    });
  }

  it("a metric outside the catalog, with DogStatsD tags, reaches Prometheus under its own name, tags as labels", async () => {
    await sendStatsd(stack.exporterStatsdPort, "checkout.orders:2|c|#team:payments,region:eu");
    const prom = new PrometheusApi(stack.prometheusUrl);
    const found = await waitFor(async () => (await prom.query('checkout_orders{team="payments",region="eu"}')).map((s) => s.value).join() === "2", 30_000, 500);
    assert.ok(found, 'checkout_orders{team="payments",region="eu"} did not read 2 within 30 s');
  });

  describe("an app that answered only 200s", () => {
    const prom = () => new PrometheusApi(stack.prometheusUrl);
    const vars = { app_name: "quiet-api", __range: "30m", __rate_interval: "20s" };
    const targets = (title: string) => panelByTitle(prometheusDashboard(), title).targets;

    before(async () => {
      const quiet = await startAppProcess(group, "dogstatsd", stack.exporterStatsdPort, { appName: "quiet-api" });
      const requests = `sum(increase(${catalog.requests.prometheusName}{app_name="quiet-api"}[30m]))`;
      // increase() needs two scrapes that differ, so the app keeps answering until Prometheus sees its traffic grow.
      const counted = await waitFor(async () => {
        await (await fetch(`${quiet.url}/`)).text();
        return ((await prom().query(requests))[0]?.value ?? 0) > 0;
      }, 60_000, 500);
      assert.ok(counted, "Prometheus saw no traffic from quiet-api within 60 s");
    });

    it("Server errors in range reads 0, not no data", async () => {
      const query = substitute(queryOf(targets("Server errors in range")[0]!), vars);
      assert.deepEqual((await prom().query(query)).map((s) => s.value), [0]);
    });

    it("Error ratio by status class draws 4xx and 5xx at 0, not no data", async () => {
      // The last step must not fall before the scrape that made the traffic visible (it may be under a second old).
      const end = Math.ceil(Date.now() / 1000) + 1;
      const drawn: Record<string, number[]> = {};
      for (const target of targets("Error ratio by status class")) {
        const series = await prom().queryRange(substitute(queryOf(target), vars), end - 60, end, 5);
        drawn[target.refId] = [...new Set(series.flatMap((s) => s.values).filter((v) => Number.isFinite(v)))];
      }
      assert.deepEqual(drawn, { A: [0], B: [0] });
    });
  });

  describe("the pipeline health dashboard", () => {
    const prom = () => new PrometheusApi(stack.prometheusUrl);
    const dashboard = exporterHealthDashboard();
    const exporterText = async () => (await fetch(stack.exporterMetricsUrl)).text();
    /** Waits long enough for a scrape that starts after now to be in Prometheus. */
    const nextScrape = () => new Promise((r) => setTimeout(r, (SCRAPE_INTERVAL_SECONDS + 1) * 1000));
    const ranges = [["15 minutes", 900], ["12 hours", 43_200]] as const;

    it("every query of every panel returns data after the load", () => {
      assert.deepEqual(failedPanels(result.healthPanels), []);
      // 4 stats; packets and lines, events by type, mapped and unmapped, the 4 loss counters, series held, scrape
      // health, scrape duration, samples per scrape, samples ingested, head series, evaluations and failures, rule time.
      assert.equal(result.healthPanels.length, 22);
    });

    for (const [range, seconds] of ranges) {
      it(`each stat panel shows what statsd_exporter and Prometheus counted, over ${range}`, async () => {
        // The range holds the exporter's whole life, so the panel shows its lines counter at Prometheus's last
        // scrape: no less than it read before that scrape, no more than it reads after the query.
        const before = metricsTextTotal(await exporterText(), EXPORTER_OWN_METRICS.lines);
        await nextScrape();
        const { "StatsD lines received in range": lines, ...exact } = await prometheusStatValues(prom(), dashboard, {}, seconds);
        const after = metricsTextTotal(await exporterText(), EXPORTER_OWN_METRICS.lines);
        assert.deepEqual(exact, { "statsd_exporter up": 1, "Drops and errors in range": 0, "Rule evaluation failures in range": 0 });
        assert.ok(before > 0, "statsd_exporter counted no line");
        assert.ok(typeof lines === "number" && lines >= before && lines <= after, `panel ${lines}, statsd_exporter counted ${before} then ${after}`);
      });
    }

    describe("after one malformed line, one malformed DogStatsD tag and one metric sent as two types", () => {
      const lossesShown = async (seconds: number) => (await prometheusStatValues(prom(), dashboard, {}, seconds))["Drops and errors in range"];

      before(async () => {
        await sendStatsd(stack.exporterStatsdPort, "pipeline_health_no_value");
        await sendStatsd(stack.exporterStatsdPort, "pipeline_health.tagged:1|c|#no_value_tag");
        await sendStatsd(stack.exporterStatsdPort, "pipeline_health.conflict:1|c");
        // The gauge conflicts only once the counter exists.
        const registered = await waitFor(async () => (await exporterText()).includes("\npipeline_health_conflict "), 10_000, 100);
        assert.ok(registered, "statsd_exporter did not register pipeline_health_conflict");
        await sendStatsd(stack.exporterStatsdPort, "pipeline_health.conflict:1|g");
        const counted = await waitFor(async () => (await lossesShown(900)) === 3, 30_000, 500);
        assert.ok(counted, `Drops and errors in range read ${await lossesShown(900)}, not 3, within 30 s`);
      });

      for (const [range, seconds] of ranges) {
        it(`Drops and errors in range reads exactly 3, over ${range}`, async () => {
          assert.equal(await lossesShown(seconds), 3);
        });
      }

      it("the Drops and errors panel draws malformed samples, malformed tags and type conflicts, and no dropped packet", async () => {
        const end = Math.ceil(Date.now() / 1000) + 1;
        const rose: Record<string, boolean> = {};
        for (const target of panelByTitle(dashboard, "Drops and errors").targets) {
          const series = await prom().queryRange(substitute(queryOf(target), { __rate_interval: "20s" }), end - 90, end, 5);
          const legend = "legendFormat" in target ? target.legendFormat ?? "" : "";
          rose[legend] = series.flatMap((s) => s.values).some((v) => v > 0);
        }
        assert.deepEqual(rose, { "UDP packets dropped": false, "malformed samples": true, "malformed tags": true, "type conflicts": true });
      });

      it("statsd_exporter and Prometheus serve every metric the dashboard reads, and Prometheus writes the scrape series of every job", async () => {
        const served = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
        const exporterServes = served(await exporterText());
        const prometheusServes = served(await (await fetch(`${stack.prometheusUrl}/metrics`)).text());
        const missing = [
          ...[...Object.values(EXPORTER_OWN_METRICS), ...EXPORTER_LOSS_COUNTERS].filter((n) => !exporterServes.has(n)),
          ...Object.values(PROMETHEUS_OWN_METRICS).filter((n) => !prometheusServes.has(n)),
        ];
        assert.deepEqual(missing, []);
        const jobs = prometheusConfig({ exporters: { static: "" }, selfTarget: "" }).scrape_configs.map((j) => j.job_name).sort();
        for (const series of Object.values(SCRAPE_SERIES)) {
          assert.deepEqual((await prom().query(series)).map((s) => s.metric.job).sort(), jobs, series);
        }
      });
    });
  });
});
