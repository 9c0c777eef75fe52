/** statsd restarted under load in the graphite topology, on the real programs (see e2e-graphite.test.ts). */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_INFO_INTERVAL_SECONDS, DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { runLoad, type LoadSummary } from "../../app/src/tools/load";
import { waitFor } from "../../app/test/helpers";
import { graphitePaths } from "../../pipeline/graphite";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { GraphiteApi, sumPoints } from "../../scripts/checks/backends";
import { graphiteRequestsSince } from "../../scripts/checks/traffic";
import { binaries, startGraphiteStack, type GraphiteStack } from "../../scripts/local/stacks";
import { ProcessGroup } from "../../scripts/local/processes";

const missing = [binaries.carbonCache(), binaries.graphiteWeb()].find((b) => b.skip)?.skip || false;

describe("statsd restarted under load", { skip: missing }, () => {
  const group = new ProcessGroup();
  const paths = graphitePaths(DEFAULT_METRIC_PREFIX);
  let stack: GraphiteStack;
  let graphite: GraphiteApi;
  let summary: LoadSummary;
  let resumedSeconds: number | undefined;
  let infoSeconds: number | undefined;

  /** Whether `target` has a non-zero point stamped at or after `sinceEpoch`. */
  const pointSince = async (target: string, sinceEpoch: number) => sumPoints(await graphite.render(target, "-5min"), sinceEpoch) > 0;

  before(async () => {
    stack = await startGraphiteStack(group);
    graphite = new GraphiteApi(stack.graphiteUrl);
    const loading = runLoad({ url: stack.apiUrl, durationSeconds: 45, vus: 5, pauseSeconds: 0 });
    assert.ok(await waitFor(async () => (await graphiteRequestsSince(graphite, DEFAULT_METRIC_PREFIX)) > 0, 30_000, 500), "no traffic reached Graphite");
    await stack.restartStatsd(2000);
    const back = Date.now();
    // statsd stamps a flush with its own clock: a point at or after the restart came from the new process.
    const since = Math.floor(back / 1000);
    if (await waitFor(async () => (await graphiteRequestsSince(graphite, DEFAULT_METRIC_PREFIX, since)) > 0, 60_000, 500)) {
      resumedSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(() => pointSince(`sumSeries(${paths.info}.*.*)`, since), 60_000, 500)) {
      infoSeconds = (Date.now() - back) / 1000;
    }
    summary = await loading;
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

  it("the info gauge reappears within two re-send intervals and flushes (time printed)", (t) => {
    assert.ok(infoSeconds !== undefined, "the info gauge did not reappear within 60 s");
    t.diagnostic(`info gauge back in Graphite ${infoSeconds.toFixed(1)} s after statsd came back`);
    assert.ok(infoSeconds <= 2 * (DEFAULT_INFO_INTERVAL_SECONDS + STATSD_FLUSH_SECONDS) + 5, `${infoSeconds} s`);
  });
});
