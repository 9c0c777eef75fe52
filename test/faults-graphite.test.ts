/** statsd restarted under load in the graphite topology, on the real programs (see e2e-graphite.test.ts). */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_INFO_INTERVAL_SECONDS, DEFAULT_METRIC_PREFIX } from "../app/src/metrics/catalog";
import { runLoad, type LoadSummary } from "../app/src/tools/load";
import { waitFor } from "../app/test/helpers";
import { graphitePaths } from "../components/pipeline/graphite-config";
import { STATSD_FLUSH_SECONDS } from "../components/pipeline/settings";
import { graphiteDashboard } from "../dashboards/graphite";
import { GraphiteApi, sumPoints } from "../scripts/checks/backends";
import { variableValues } from "../scripts/checks/dashboard-queries";
import { graphiteRequestsSince } from "../scripts/checks/traffic";
import { binaries, startGraphiteStack, type GraphiteStack } from "./support/local-stacks";
import { ProcessGroup } from "./support/processes";

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
    if (await waitFor(async () => (await graphiteRequestsSince(graphite, DEFAULT_METRIC_PREFIX, since)) > 0, 40_000, 500)) {
      resumedSeconds = (Date.now() - back) / 1000;
    }
    if (await waitFor(() => pointSince(`sumSeries(${paths.info}.*.*)`, since), 40_000, 500)) {
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

  it("counts reach Graphite again within one flush interval (plus carbon's write)", (t) => {
    assert.ok(resumedSeconds !== undefined, "no fresh counts within 40 s");
    t.diagnostic(`counts resumed in Graphite ${resumedSeconds.toFixed(1)} s after statsd came back`);
    assert.ok(resumedSeconds <= STATSD_FLUSH_SECONDS + 3, `${resumedSeconds} s`);
  });

  it("the info gauge reappears within one re-send interval and one flush", (t) => {
    assert.ok(infoSeconds !== undefined, "the info gauge did not reappear within 40 s");
    t.diagnostic(`info gauge back in Graphite ${infoSeconds.toFixed(1)} s after statsd came back`);
    assert.ok(infoSeconds <= DEFAULT_INFO_INTERVAL_SECONDS + STATSD_FLUSH_SECONDS + 3, `${infoSeconds} s`);
  });

  it("the dashboard's prefix variable is populated", async () => {
    assert.deepEqual(await variableValues(graphiteDashboard(DEFAULT_METRIC_PREFIX), graphite), [DEFAULT_METRIC_PREFIX]);
  });
});
