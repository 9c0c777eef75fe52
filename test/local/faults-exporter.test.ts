/**
 * Faults in the exporter topology, on the real programs (see e2e-exporter.test.ts): statsd_exporter restarted
 * under load, and a flood of random URLs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { catalog, DEFAULT_APP_NAME, UNMATCHED_ROUTE } from "../../app/src/metrics/catalog";
import { routes } from "../../app/src/routes";
import { runLoad, type LoadSummary } from "../../app/src/tools/load";
import { waitFor } from "../../app/test/helpers";
import { parseMetricsText, PrometheusApi } from "../../scripts/checks/backends";
import { SCRAPE_INTERVAL_SECONDS } from "../../pipeline/settings";
import { DEFAULT_INFO_INTERVAL_SECONDS } from "../../app/src/metrics/catalog";
import { AGGREGATION_WINDOW_MS } from "../../app/src/metrics/recorder";
import { binaries, startExporterStack, type ExporterStack } from "../../scripts/local/stacks";
import { ProcessGroup } from "../../scripts/local/processes";

const missing = [binaries.statsdExporter(), binaries.prometheus()].find((b) => b.skip)?.skip || false;
const requests = catalog.requests.prometheusName;
const app = `app_name="${DEFAULT_APP_NAME}"`;

describe("statsd_exporter restarted under load", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: ExporterStack;
  let prom: PrometheusApi;
  let summary: LoadSummary;
  let resumedSeconds: number | undefined;
  let infoSeconds: number | undefined;
  let infoInPrometheusSeconds: number | undefined;

  before(async () => {
    stack = await startExporterStack(group);
    prom = new PrometheusApi(stack.prometheusUrl);
    const total = async () => (await prom.query(`sum(${requests}{${app}})`))[0]?.value ?? 0;
    const loading = runLoad({ url: stack.apiUrl, durationSeconds: 40, vus: 5, pauseSeconds: 0 });
    // Let Prometheus see traffic first, so a reset counter is recognisable.
    assert.ok(await waitFor(async () => (await total()) > 0, 30_000, 500), "no traffic reached Prometheus");
    const beforeKill = await total();
    await stack.restartExporter(2000);
    const back = Date.now();
    // Prometheus has scraped the new, empty exporter when its total drops below the old one and is not zero.
    if (await waitFor(async () => { const t = await total(); return t > 0 && t < beforeKill; }, 60_000, 250)) {
      resumedSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(async () => parseMetricsText(await (await fetch(stack.exporterMetricsUrl)).text(), catalog.info.prometheusName).size > 0, 60_000, 250)) {
      infoSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(async () => (await prom.query(`${catalog.info.prometheusName}{${app}}`)).length > 0, 90_000, 250)) {
      infoInPrometheusSeconds = (Date.now() - back) / 1000;
    }
    summary = await loading;
  });
  after(() => group.stopAll());

  it("the app answers every request while the exporter is down", () => {
    assert.equal(summary.failures, 0);
    assert.ok(summary.requests > 100, `only ${summary.requests} requests`);
    assert.deepEqual(Object.keys(summary.statuses).filter((s) => !["200", "300", "400", "500"].includes(s)), []);
  });

  // The bounds below allow a busy machine three times the pipeline's own intervals; the printed times are the figures.
  it("Prometheus sees fresh counts within three scrape intervals of the exporter's return (time printed)", (t) => {
    assert.ok(resumedSeconds !== undefined, "no fresh counts within 60 s");
    t.diagnostic(`counts resumed in Prometheus ${resumedSeconds.toFixed(1)} s after the exporter came back`);
    assert.ok(resumedSeconds <= 3 * (SCRAPE_INTERVAL_SECONDS + AGGREGATION_WINDOW_MS / 1000), `${resumedSeconds} s`);
  });

  it("the info gauge reappears within three re-send intervals, in the exporter and in Prometheus (times printed)", (t) => {
    assert.ok(infoSeconds !== undefined && infoInPrometheusSeconds !== undefined, "app_info did not reappear in time");
    t.diagnostic(`app_info back in the exporter after ${infoSeconds.toFixed(1)} s, in Prometheus after ${infoInPrometheusSeconds.toFixed(1)} s`);
    assert.ok(infoSeconds <= 3 * DEFAULT_INFO_INTERVAL_SECONDS, `${infoSeconds} s`);
    assert.ok(infoInPrometheusSeconds <= 3 * (DEFAULT_INFO_INTERVAL_SECONDS + SCRAPE_INTERVAL_SECONDS), `${infoInPrometheusSeconds} s`);
  });
});

describe("10,000 requests to random paths", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: ExporterStack;
  let seriesBefore: { counter: Set<string>; histogram: Set<string> };
  let seriesAfter: { counter: Set<string>; histogram: Set<string> };

  /** Label sets of both request metrics: the counter, and the histogram (one `_count` per series). */
  const seriesOf = async () => {
    const text = await (await fetch(stack.exporterMetricsUrl)).text();
    return {
      counter: new Set(parseMetricsText(text, catalog.requests.prometheusName).keys()),
      histogram: new Set(parseMetricsText(text, `${catalog.requestDuration.prometheusName}_count`).keys()),
    };
  };
  const requestSeries = async () => (await seriesOf()).counter;
  const unmatched = `{app_name="${DEFAULT_APP_NAME}",method="GET",route="${UNMATCHED_ROUTE}",status="404"}`;

  before(async () => {
    stack = await startExporterStack(group);
    for (const path of routes.keys()) if (path !== "/io_task" && path !== "/random_sleep") await (await fetch(stack.apiUrl + path)).text();
    await waitFor(async () => (await requestSeries()).size >= 3, 10_000, 100);
    seriesBefore = await seriesOf();
    let next = 0;
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        await (await fetch(`${stack.apiUrl}/${Math.random().toString(36).slice(2)}/${i}?q=${i}`)).arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    await waitFor(async () => {
      const text = await (await fetch(stack.exporterMetricsUrl)).text();
      return parseMetricsText(text, catalog.requests.prometheusName).get(unmatched) === 10_000;
    }, 15_000, 200);
    seriesAfter = await seriesOf();
  });
  after(() => group.stopAll());

  it("adds exactly one counter series: route unmatched, status 404", () => {
    assert.deepEqual([...seriesAfter.counter].filter((s) => !seriesBefore.counter.has(s)), [unmatched]);
  });

  it("adds exactly one latency histogram series: route unmatched, status 404", () => {
    assert.deepEqual([...seriesAfter.histogram].filter((s) => !seriesBefore.histogram.has(s)), [unmatched]);
  });
});
