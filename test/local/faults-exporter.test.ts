/**
 * Faults in the exporter topology, on the real programs (see e2e-exporter.test.ts): statsd_exporter restarted
 * under load, and a flood of random URLs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { catalog, DEFAULT_APP_NAME, DEFAULT_INFO_INTERVAL_SECONDS, UNMATCHED_ROUTE } from "../../app/src/metrics/catalog";
import { AGGREGATION_WINDOW_MS } from "../../app/src/metrics/recorder";
import { routes } from "../../app/src/routes";
import { runLoad, type LoadSummary } from "../../app/src/tools/load";
import { waitFor } from "../../app/src/tools/wait";
import { SCRAPE_INTERVAL_SECONDS } from "../../pipeline/settings";
import { metricsTextTotal, parseMetricsText, PrometheusApi } from "../../scripts/checks/backends";
import { prometheusCounts } from "../../scripts/checks/traffic";
import { describeLoss, lossBound, lossOf, sentByRouteAndStatus, type Loss, type LossBound } from "../../scripts/local/loss";
import { ProcessGroup } from "../../scripts/local/processes";
import { binaries, startExporterStack, type ExporterStack } from "../../scripts/local/stacks";

const missing = [binaries.statsdExporter(), binaries.prometheus()].find((b) => b.skip)?.skip || false;
const requests = catalog.requests.prometheusName;
const app = `app_name="${DEFAULT_APP_NAME}"`;

/**
 * What a restart of statsd_exporter may lose, in seconds of traffic: the counts it received since Prometheus's last
 * scrape before the kill (at most SCRAPE_INTERVAL_SECONDS), and the datagrams sent while it was down (UDP to a
 * closed port is lost): the measured down time, plus the app's aggregation window (AGGREGATION_WINDOW_MS) of
 * requests answered before the kill whose lines went out after it.
 */
const exporterLossWindowSeconds = (downSeconds: number) => SCRAPE_INTERVAL_SECONDS + AGGREGATION_WINDOW_MS / 1000 + downSeconds;
/**
 * The load is bursty (each virtual user waits 2 s on /io_task and 0-5 s on /random_sleep per round) and a loaded
 * machine delays scrapes: the bound allows twice the load's mean rate over the window.
 */
const LOSS_MARGIN = 2;
const DOWN_MS = 2000;

describe("statsd_exporter restarted under load", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: ExporterStack;
  let prom: PrometheusApi;
  let summary: LoadSummary;
  let resumedSeconds: number | undefined;
  let infoSeconds: number | undefined;
  let infoInPrometheusSeconds: number | undefined;
  let downSeconds: number;
  /** Requests answered after the exporter came back (at least: counted from the first progress report after it). */
  let sentAfterBack: number;
  let loss: Loss;
  let bound: LossBound;

  before(async () => {
    stack = await startExporterStack(group);
    prom = new PrometheusApi(stack.prometheusUrl);
    const total = async () => (await prom.query(`sum(${requests}{${app}})`))[0]?.value ?? 0;
    // Whole seconds, before the first request: the window Prometheus's increase covers starts with the load.
    const startedAt = Math.floor(Date.now() / 1000);
    let backAt: number | undefined;
    let answeredAtBack: number | undefined;
    const loading = runLoad({
      url: stack.apiUrl,
      durationSeconds: 40,
      vus: 5,
      pauseSeconds: 0,
      onProgress: (progress) => {
        if (backAt !== undefined && answeredAtBack === undefined) answeredAtBack = progress.requests;
      },
    });
    // Let Prometheus see traffic first, so a reset counter is recognisable.
    assert.ok(await waitFor(async () => (await total()) > 0, 30_000, 500), "no traffic reached Prometheus");
    // Traffic has just been scraped: kill the exporter half a scrape interval later, when it holds counts Prometheus
    // has not seen, not right after a scrape (the least it can lose).
    await sleep((SCRAPE_INTERVAL_SECONDS * 1000) / 2);
    const resets = async () => (await prom.query(`sum(resets(${requests}{${app}}[5m]))`))[0]?.value ?? 0;
    assert.equal(await resets(), 0, "a request counter reset before the restart");
    const restartStarted = performance.now();
    await stack.restartExporter(DOWN_MS);
    downSeconds = (performance.now() - restartStarted) / 1000;
    const back = Date.now();
    backAt = back;
    // Prometheus has scraped fresh counts from the new exporter when it sees a request counter reset: each series
    // the new process reports starts from the zero Prometheus writes at its created timestamp. (Its total can have
    // grown past the old one by the first scrape, so comparing totals does not tell.)
    if (await waitFor(async () => (await resets()) > 0, 60_000, 250)) {
      resumedSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(async () => parseMetricsText(await (await fetch(stack.exporterMetricsUrl)).text(), catalog.info.prometheusName).size > 0, 60_000, 250)) {
      infoSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(async () => (await prom.query(`${catalog.info.prometheusName}{${app}}`)).length > 0, 90_000, 250)) {
      infoInPrometheusSeconds = (Date.now() - back) / 1000;
    }
    summary = await loading;
    assert.ok(answeredAtBack !== undefined, "the load ended before the exporter came back");
    sentAfterBack = summary.requests - answeredAtBack;

    // Prometheus holds the final counts once the exporter's total has stopped growing (three aggregation windows
    // without a new line) and Prometheus's latest sample of it is the same.
    const exporterTotal = async () => metricsTextTotal(await (await fetch(stack.exporterMetricsUrl)).text(), requests);
    let last = { exporter: -1, prometheus: -1 };
    const caughtUp = await waitFor(async () => {
      const first = await exporterTotal();
      await sleep(3 * AGGREGATION_WINDOW_MS);
      last = { exporter: await exporterTotal(), prometheus: await total() };
      return first === last.exporter && last.prometheus === last.exporter;
    }, 60_000, 500);
    assert.ok(caughtUp, `Prometheus did not catch up with the exporter within 60 s: ${JSON.stringify(last)}`);
    loss = lossOf(sentByRouteAndStatus(summary), await prometheusCounts(prom, requests, DEFAULT_APP_NAME, startedAt));
    bound = lossBound(summary, exporterLossWindowSeconds(downSeconds), LOSS_MARGIN);
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

  it(
    `Prometheus loses at most what the exporter held: counts since the last scrape (${SCRAPE_INTERVAL_SECONDS} s) and ` +
      `lines sent while it was down (${AGGREGATION_WINDOW_MS} ms window + down time), at ${LOSS_MARGIN}x the mean rate (loss printed)`,
    (t) => {
      t.diagnostic(`statsd_exporter down ${downSeconds.toFixed(1)} s: ${describeLoss(loss, bound)}`);
      assert.deepEqual(loss.overcounted, {});
      assert.ok(loss.lost >= 0 && loss.lost <= bound.requests, describeLoss(loss, bound));
    },
  );

  it("the loss bound is below the requests answered after the restart, so counting that stopped there would fail", (t) => {
    t.diagnostic(`${sentAfterBack} requests answered after the exporter came back; bound ${bound.requests}`);
    assert.ok(bound.requests < sentAfterBack, `bound ${bound.requests} >= ${sentAfterBack} requests after the restart`);
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
  let unmatchedCount = 0;
  let unmatchedTimed = 0;

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
    const known = [...routes.keys()].filter((path) => path !== "/io_task" && path !== "/random_sleep");
    for (const path of known) await (await fetch(stack.apiUrl + path)).text();
    // Each known path answered makes one series (/random_status draws one status).
    assert.ok(await waitFor(async () => (await requestSeries()).size === known.length, 10_000, 100), `series: ${[...(await requestSeries())].join(" ")}`);
    seriesBefore = await seriesOf();
    let next = 0;
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        await (await fetch(`${stack.apiUrl}/${Math.random().toString(36).slice(2)}/${i}?q=${i}`)).arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    const unmatchedOf = (text: string, metric: string) => parseMetricsText(text, metric).get(unmatched) ?? 0;
    const reached = await waitFor(async () => {
      unmatchedCount = unmatchedOf(await (await fetch(stack.exporterMetricsUrl)).text(), catalog.requests.prometheusName);
      return unmatchedCount >= 10_000;
    }, 30_000, 200);
    assert.ok(reached, `statsd_exporter counted ${unmatchedCount} of the 10,000 unmatched requests within 30 s`);
    // Three more aggregation windows: a request counted twice would show by then.
    await sleep(3 * AGGREGATION_WINDOW_MS);
    const text = await (await fetch(stack.exporterMetricsUrl)).text();
    unmatchedCount = unmatchedOf(text, catalog.requests.prometheusName);
    unmatchedTimed = unmatchedOf(text, `${catalog.requestDuration.prometheusName}_count`);
    seriesAfter = await seriesOf();
  });
  after(() => group.stopAll());

  it("counts every one of the 10,000 requests, under route unmatched, status 404", () => {
    assert.equal(unmatchedCount, 10_000);
  });

  it("times every one of the 10,000 requests in the latency histogram, under route unmatched, status 404", () => {
    assert.equal(unmatchedTimed, 10_000);
  });

  it("adds exactly one counter series: route unmatched, status 404", () => {
    assert.deepEqual([...seriesAfter.counter].filter((s) => !seriesBefore.counter.has(s)), [unmatched]);
  });

  it("adds exactly one latency histogram series: route unmatched, status 404", () => {
    assert.deepEqual([...seriesAfter.histogram].filter((s) => !seriesBefore.histogram.has(s)), [unmatched]);
  });
});
