/** statsd restarted under load in the graphite topology, on the real programs (see e2e-graphite.test.ts). */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_INFO_INTERVAL_SECONDS, DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { AGGREGATION_WINDOW_MS } from "../../app/src/metrics/recorder";
import { runLoad, type LoadSummary } from "../../app/src/tools/load";
import { waitFor } from "../../app/src/tools/wait";
import { graphitePaths } from "../../pipeline/graphite";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { GraphiteApi, sumPoints, type GraphiteSeries } from "../../scripts/checks/backends";
import { graphiteCounts, graphiteRequestsSince } from "../../scripts/checks/traffic";
import { describeLoss, lossBound, lossOf, sentByRouteAndStatus, type Loss, type LossBound } from "../../scripts/local/loss";
import { ProcessGroup } from "../../scripts/local/processes";
import { binaries, startGraphiteStack, type GraphiteStack } from "../../scripts/local/stacks";

const missing = [binaries.carbonCache(), binaries.graphiteWeb()].find((b) => b.skip)?.skip || false;

/**
 * What a restart of Etsy statsd may lose, in seconds of traffic: the counts it received since its last flush (at
 * most one flush interval, STATSD_FLUSH_SECONDS: on SIGTERM it exits without flushing), and the datagrams sent while
 * it was down (UDP to a closed port is lost): the measured down time, plus the app's aggregation window
 * (AGGREGATION_WINDOW_MS) of requests answered before the kill whose lines went out after it.
 */
const statsdLossWindowSeconds = (downSeconds: number) => STATSD_FLUSH_SECONDS + AGGREGATION_WINDOW_MS / 1000 + downSeconds;
/**
 * The load is bursty (each virtual user waits 2 s on /io_task and 0-5 s on /random_sleep per round) and a loaded
 * machine delays flushes: the bound allows twice the load's mean rate over the window.
 */
const LOSS_MARGIN = 2;
const DOWN_MS = 2000;
/** Long enough after the restart that losing every count from there on is well above the bound. */
const LOAD_SECONDS = 60;

/** The time of the last non-null point of any series (whisper stamps a point at the start of its slot). */
function lastPointAt(series: readonly GraphiteSeries[]): number {
  return Math.max(-Infinity, ...series.flatMap((s) => s.datapoints.filter(([v]) => v !== null).map(([, t]) => t)));
}

describe("statsd restarted under load", { skip: missing }, () => {
  const group = new ProcessGroup();
  const paths = graphitePaths(DEFAULT_METRIC_PREFIX);
  let stack: GraphiteStack;
  let graphite: GraphiteApi;
  let summary: LoadSummary;
  let resumedSeconds: number | undefined;
  let infoSeconds: number | undefined;
  let downSeconds: number;
  /** Requests answered after statsd came back (at least: counted from the first progress report after it). */
  let sentAfterBack: number;
  let loss: Loss;
  let bound: LossBound;

  /** Whether `target` has a non-zero point stamped at or after `sinceEpoch`. */
  const pointSince = async (target: string, sinceEpoch: number) => sumPoints(await graphite.render(target, "-5min"), sinceEpoch) > 0;

  before(async () => {
    stack = await startGraphiteStack(group);
    graphite = new GraphiteApi(stack.graphiteUrl);
    // Before the first request; the points are summed from the start of the 10 s slot it falls in.
    const startedAt = Math.floor(Date.now() / 1000);
    let backAt: number | undefined;
    let answeredAtBack: number | undefined;
    const loading = runLoad({
      url: stack.apiUrl,
      durationSeconds: LOAD_SECONDS,
      vus: 5,
      pauseSeconds: 0,
      onProgress: (progress) => {
        if (backAt !== undefined && answeredAtBack === undefined) answeredAtBack = progress.requests;
      },
    });
    assert.ok(await waitFor(async () => (await graphiteRequestsSince(graphite, DEFAULT_METRIC_PREFIX)) > 0, 30_000, 500), "no traffic reached Graphite");
    // Traffic has just been flushed: kill statsd half a flush interval later, when it holds counts, not right after
    // a flush (the least it can lose).
    await new Promise((resolve) => setTimeout(resolve, (STATSD_FLUSH_SECONDS * 1000) / 2));
    const restartStarted = performance.now();
    await stack.restartStatsd(DOWN_MS);
    downSeconds = (performance.now() - restartStarted) / 1000;
    const back = Date.now();
    backAt = back;
    // statsd stamps a flush with its own clock: a point at or after the restart came from the new process.
    const since = Math.floor(back / 1000);
    if (await waitFor(async () => (await graphiteRequestsSince(graphite, DEFAULT_METRIC_PREFIX, since)) > 0, 60_000, 500)) {
      resumedSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(() => pointSince(`sumSeries(${paths.info}.*.*)`, since), 60_000, 500)) {
      infoSeconds = (Date.now() - back) / 1000;
    }
    summary = await loading;
    assert.ok(answeredAtBack !== undefined, "the load ended before statsd came back");
    sentAfterBack = summary.requests - answeredAtBack;

    // Every line the app sent went out within an aggregation window of the load's end; a flush stamped 3 s after
    // the end holds them all (statsd writes idle counters as 0, so every flush leaves a point).
    const flushedAfter = Math.ceil(Date.now() / 1000) + 3;
    let lastFlush = -Infinity;
    const flushed = await waitFor(async () => {
      lastFlush = lastPointAt(await graphite.render(`sumSeries(${paths.requestCounts}.*.*.*)`, "-5min"));
      return lastFlush >= flushedAfter;
    }, 3 * STATSD_FLUSH_SECONDS * 1000 + 10_000, 1000);
    assert.ok(flushed, `no flush stamped at or after ${flushedAfter} reached Graphite (last point at ${lastFlush})`);
    const counted = await graphiteCounts(graphite, DEFAULT_METRIC_PREFIX, startedAt - STATSD_FLUSH_SECONDS);
    loss = lossOf(sentByRouteAndStatus(summary), counted);
    bound = lossBound(summary, statsdLossWindowSeconds(downSeconds), LOSS_MARGIN);
  });
  after(() => group.stopAll());

  it("the app answers every request while statsd is down", () => {
    assert.equal(summary.failures, 0);
    assert.ok(summary.requests > 100, `only ${summary.requests} requests`);
    assert.deepEqual(Object.keys(summary.statuses).filter((s) => !["200", "300", "400", "500"].includes(s)), []);
  });

  // The bounds below allow a busy machine twice the pipeline's own intervals, and more; the printed times are the figures.
  it("counts reach Graphite again within two flush intervals of statsd's return (time printed)", (t) => {
    assert.ok(resumedSeconds !== undefined, "no fresh counts within 60 s");
    t.diagnostic(`counts resumed in Graphite ${resumedSeconds.toFixed(1)} s after statsd came back`);
    assert.ok(resumedSeconds <= 2 * STATSD_FLUSH_SECONDS + 5, `${resumedSeconds} s`);
  });

  it(
    `Graphite loses at most what statsd held: counts since its last flush (${STATSD_FLUSH_SECONDS} s) and lines sent ` +
      `while it was down (${AGGREGATION_WINDOW_MS} ms window + down time), at ${LOSS_MARGIN}x the mean rate (loss printed)`,
    (t) => {
      t.diagnostic(`statsd down ${downSeconds.toFixed(1)} s: ${describeLoss(loss, bound)}`);
      assert.deepEqual(loss.overcounted, {});
      assert.ok(loss.lost >= 0 && loss.lost <= bound.requests, describeLoss(loss, bound));
    },
  );

  it("the loss bound is below the requests answered after the restart, so counting that stopped there would fail", (t) => {
    t.diagnostic(`${sentAfterBack} requests answered after statsd came back; bound ${bound.requests}`);
    assert.ok(bound.requests < sentAfterBack, `bound ${bound.requests} >= ${sentAfterBack} requests after the restart`);
  });

  it("the info gauge reappears within two re-send intervals and flushes (time printed)", (t) => {
    assert.ok(infoSeconds !== undefined, "the info gauge did not reappear within 60 s");
    t.diagnostic(`info gauge back in Graphite ${infoSeconds.toFixed(1)} s after statsd came back`);
    assert.ok(infoSeconds <= 2 * (DEFAULT_INFO_INTERVAL_SECONDS + STATSD_FLUSH_SECONDS) + 5, `${infoSeconds} s`);
  });
});
