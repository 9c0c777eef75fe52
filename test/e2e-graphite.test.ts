/**
 * The graphite topology end to end, for real on 127.0.0.1: the app (plain StatsD) -> Etsy statsd (npm `statsd`,
 * the daemon the image builds) -> carbon-cache -> graphite-web (Debian's packages), with the generated statsd config,
 * storage schemas and aggregation. Grafana is the one piece not run: its queries are run against graphite-web.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_METRIC_PREFIX } from "../app/src/metrics/catalog";
import { waitFor } from "../app/test/helpers";
import { graphitePaths } from "../components/pipeline/graphite-config";
import { graphiteDashboard } from "../dashboards/graphite";
import { GraphiteApi, hasPoints } from "../scripts/checks/backends";
import { checkGraphiteDashboard, variableValues, type QueryCheck } from "../scripts/checks/dashboard-queries";
import { asObject, graphiteCounts, sendKnownLoad, settle, type Counts, type KnownLoad } from "../scripts/checks/traffic";
import { binaries, startGraphiteStack, type GraphiteStack } from "./support/local-stacks";
import { ProcessGroup } from "./support/processes";

const missing = [binaries.carbonCache(), binaries.graphiteWeb()].find((b) => b.skip)?.skip || false;

describe("graphite topology end to end", { skip: missing }, () => {
  const group = new ProcessGroup();
  const prefix = DEFAULT_METRIC_PREFIX;
  let stack: GraphiteStack;
  let graphite: GraphiteApi;
  let load: KnownLoad;
  let counted: Counts;
  let firstResultSeconds: number | undefined;
  let panels: QueryCheck[];

  before(async () => {
    stack = await startGraphiteStack(group);
    graphite = new GraphiteApi(stack.graphiteUrl);
    let sentAt = 0;
    const firstResult = waitFor(async () => {
      if (sentAt === 0) return false;
      const found = hasPoints(await graphite.render(`sumSeries(${graphitePaths(prefix).requestCounts}.*.*.*)`, "-5min"));
      if (found) firstResultSeconds = (Date.now() - sentAt) / 1000;
      return found;
    }, 120_000, 250);
    load = await sendKnownLoad(stack.apiUrl, { requests: 600, vus: 30, unknownPaths: 20, onStart: () => (sentAt = Date.now()) });
    // A fresh carbon holds nothing but this load: count every point.
    counted = await settle(() => graphiteCounts(graphite, prefix, load.expected, 0), load.expected, 45_000);
    await firstResult;
    panels = await checkGraphiteDashboard(graphite, graphiteDashboard(prefix), { prefix }, "-30min");
  });
  after(() => group.stopAll());

  it("Graphite counts exactly the requests sent, by route and status", () => {
    assert.equal(load.total, 620);
    assert.deepEqual(asObject(counted), asObject(load.expected));
  });

  it("every query of every panel returns data", () => {
    const empty = panels.filter((p) => !p.ok).map((p) => `${p.panel} ${p.refId}: ${p.query} -> ${p.detail}`);
    assert.deepEqual(empty, []);
    // 4 stats, rate by route, 4xx and 5xx ratios, p50/p90/p99, average by route, p99 by route.
    assert.equal(panels.length, 12);
  });

  it("the prefix variable, fed by the info gauge, lists the app's prefix and not statsd's own", async () => {
    assert.deepEqual(await variableValues(graphiteDashboard(prefix), graphite), [prefix]);
  });

  it("names browse as a tree: stats_counts.<prefix>.http_requests.<route>", async () => {
    assert.deepEqual((await graphite.find(`${graphitePaths(prefix).requestCounts}.*`)).sort(), [
      "cpu_task",
      "io_task",
      "random_sleep",
      "random_status",
      "root",
      "unmatched",
    ]);
  });

  it("reports the time from the first request to the first query result (target <= 15 s)", (t) => {
    assert.ok(firstResultSeconds !== undefined, "no query result within 120 s");
    t.diagnostic(`graphite topology: first query result ${firstResultSeconds.toFixed(1)} s after the first request`);
  });
});
