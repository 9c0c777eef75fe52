/**
 * The graphite topology end to end, for real on 127.0.0.1: the app (plain StatsD) -> Etsy statsd (npm `statsd`,
 * the daemon the image builds) -> carbon-cache -> graphite-web (Debian's packages), with the generated statsd config,
 * storage schemas and aggregation. Grafana is the one piece not run: its queries are run against graphite-web.
 * The checks are the ones `npm run smoke` runs against a deployed stack.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_METRIC_PREFIX } from "../app/src/metrics/catalog";
import { graphitePaths } from "../components/pipeline/graphite-config";
import { waitFor } from "../app/src/tools/wait";
import { graphiteDashboard } from "../dashboards/graphite";
import { queryOf } from "../dashboards/model";
import { GraphiteApi, sumPoints } from "../scripts/checks/backends";
import { substitute } from "../scripts/checks/dashboard-queries";
import { asObject } from "../scripts/checks/traffic";
import { verifyGraphiteStack, type StackVerification } from "../scripts/checks/verify-stack";
import { binaries, startApp, startGraphiteStack, type GraphiteStack } from "./support/local-stacks";
import { ProcessGroup } from "./support/processes";

const missing = [binaries.carbonCache(), binaries.graphiteWeb()].find((b) => b.skip)?.skip || false;

describe("graphite topology end to end", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: GraphiteStack;
  let result: StackVerification;

  before(async () => {
    stack = await startGraphiteStack(group);
    result = await verifyGraphiteStack(stack, { requests: 600, vus: 30, unknownPaths: 20 });
  });
  after(() => group.stopAll());

  it("Graphite counts exactly the requests sent, by route and status", () => {
    assert.equal(result.load.total, 620);
    assert.deepEqual(asObject(result.counted), asObject(result.load.expected));
  });

  it("every query of every panel returns data", () => {
    const empty = result.panels.filter((p) => !p.ok).map((p) => `${p.panel} ${p.refId}: ${p.query} -> ${p.detail}`);
    assert.deepEqual(empty, []);
    // 4 stats, rate by route, 4xx and 5xx ratios, p50/p90/p99, average by route, p99 by route.
    assert.equal(result.panels.length, 12);
  });

  it("the prefix variable, fed by the info gauge, lists the app's prefix and not statsd's own", () => {
    assert.deepEqual(result.variable, [DEFAULT_METRIC_PREFIX]);
  });

  it("names browse as a tree: stats_counts.<prefix>.http_requests.<route>", async () => {
    const routes = await new GraphiteApi(stack.graphiteUrl).find(`${graphitePaths(DEFAULT_METRIC_PREFIX).requestCounts}.*`);
    assert.deepEqual(routes.sort(), ["cpu_task", "io_task", "random_sleep", "random_status", "root", "unmatched"]);
  });

  it("reports the time from the first request to the first query result (target <= 15 s)", (t) => {
    assert.ok(result.firstResultSeconds !== undefined, "no query result within 120 s");
    t.diagnostic(`graphite topology: first query result ${result.firstResultSeconds.toFixed(1)} s after the first request`);
  });

  it("Server errors in range reads 0, not no data, for an app that answered no 5xx", async () => {
    const quiet = await startApp(group, "graphite", stack.statsdPort, { appName: "quiet-api", metricPrefix: "quiet_api" });
    const graphite = new GraphiteApi(stack.graphiteUrl);
    const counted = await waitFor(async () => {
      await (await fetch(`${quiet.url}/`)).text();
      return sumPoints(await graphite.render(`sumSeries(${graphitePaths("quiet_api").requestCounts}.*.*.*)`, "-5min")) > 0;
    }, 60_000, 500);
    assert.ok(counted, "Graphite saw no traffic from quiet_api within 60 s");
    const panel = graphiteDashboard("quiet_api").panels.find((p) => p.title === "Server errors in range")!;
    const series = await graphite.render(substitute(queryOf(panel.targets[0]!), { prefix: "quiet_api" }), "-30min");
    assert.equal(series.length, 1);
    // The stat panel shows the last non-null point (reducer lastNotNull).
    assert.equal(series[0]!.datapoints.filter(([v]) => v !== null).at(-1)?.[0], 0);
  });
});
