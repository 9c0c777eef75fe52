/**
 * The graphite topology end to end, for real on 127.0.0.1: the app (plain StatsD) -> Etsy statsd (npm `statsd`,
 * the daemon the image builds) -> carbon-cache -> graphite-web (Debian's packages), with the generated statsd config,
 * storage schemas and aggregation. Grafana is the one piece not run: its queries are run against graphite-web.
 * The checks are the ones `npm run smoke` runs against a deployed stack.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_APP_NAME, DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { graphiteSegment } from "../../app/src/metrics/names";
import { CARBON_AGENTS, CARBON_OWN_METRICS, graphitePaths, STATSD_OWN_PATHS } from "../../pipeline/graphite";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { waitFor } from "../../app/src/tools/wait";
import { graphiteDashboard } from "../../dashboards/graphite";
import { graphiteHealthDashboard } from "../../dashboards/pipeline-health-graphite";
import { panelByTitle, queryOf } from "../../dashboards/model";
import { GraphiteApi, hasPoints, sumPoints } from "../../scripts/checks/backends";
import { failedPanels, substitute } from "../../scripts/checks/dashboard-queries";
import { graphiteStatValues } from "../../scripts/checks/panel-values";
import { asObject, countMismatches, graphiteRequestsSince } from "../../scripts/checks/traffic";
import { verifyGraphiteStack, type StackVerification } from "../../scripts/checks/verify-stack";
import { binaries, startAppProcess, startGraphiteStack, type GraphiteStack } from "../../scripts/local/stacks";
import { ProcessGroup } from "../../scripts/local/processes";
import { sendStatsd } from "../support/udp";

/** The version the app reports: app/package.json's. */
const APP_VERSION = (JSON.parse(readFileSync(path.join(__dirname, "..", "..", "app", "package.json"), "utf8")) as { version: string }).version;

/** How much later than the server the load's client may see a request end. */
const CLIENT_LATENESS_ALLOWANCE_MS = 3000;

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

  it("Graphite counts exactly the requests sent, by route, method and status, and nothing else of the app moves", () => {
    assert.equal(result.load.total, 620);
    assert.deepEqual(countMismatches(result.load.expected, result.before, result.after), []);
    assert.deepEqual(asObject(result.counted), asObject(result.load.expected));
  });

  it("every query of every panel returns data", () => {
    assert.deepEqual(failedPanels(result.panels), []);
    // 4 stats, rate by route, 4xx and 5xx ratios, p50/p90/p99, average by route, p99 by route.
    assert.equal(result.panels.length, 12);
  });

  it("the prefix variable, fed by stats_counts where the info counter is, lists the app's prefix and not statsd's own", () => {
    assert.deepEqual(result.variable, [DEFAULT_METRIC_PREFIX]);
  });

  it("names browse as a tree: stats_counts.<prefix>.http_requests.<route>", async () => {
    const routes = await new GraphiteApi(stack.graphiteUrl).find(`${graphitePaths(DEFAULT_METRIC_PREFIX).requestCounts}.*`);
    assert.deepEqual(routes.sort(), ["cpu_task", "io_task", "random_sleep", "random_status", "root", "unmatched"]);
  });

  it("a query result arrives within 120 s of the first request, and the time it took is printed (README's figure)", (t) => {
    assert.ok(result.firstResultSeconds !== undefined, "no query result within 120 s");
    t.diagnostic(`graphite topology: first query result ${result.firstResultSeconds.toFixed(1)} s after the first request`);
  });

  // Grafana asks for as many points as the panel is wide; graphite-web merges points beyond that. Both the panel's
  // width on a 1,280-pixel dashboard and a single point (the whole range merged) must show the same numbers.
  const widths = [["at the panel's width", undefined], ["merged into one point", 1]] as const;
  for (const [range, from] of [["15 minutes", "-15min"], ["12 hours", "-12h"]] as const) {
    for (const [width, maxDataPoints] of widths) {
      it(`each stat panel shows exactly what the load makes it show, over ${range} ${width}`, async () => {
        const dashboard = graphiteDashboard(DEFAULT_METRIC_PREFIX);
        const shown = await graphiteStatValues(new GraphiteApi(stack.graphiteUrl), dashboard, { prefix: DEFAULT_METRIC_PREFIX }, from, maxDataPoints);
        const serverErrors = [...result.load.expected].filter(([k]) => k.endsWith(" 500")).reduce((n, [, v]) => n + v, 0);
        // statsd's per-flush 99th percentile of a route is its slowest request when a flush holds fewer than 150 of
        // them (here: tens), so the panel's highest is the slowest request, which the client saw a little later.
        const slowest = result.load.summary.latencyMs.max;
        const { "p99 latency in range": p99, ...exact } = shown;
        assert.deepEqual(exact, {
          "Requests in range": 620,
          // graphite-web's asPercent divides, then multiplies by 100: the same float operations in the same order.
          "Server errors in range": (serverErrors / 620) * 100,
          Version: `${DEFAULT_APP_NAME}.${graphiteSegment(APP_VERSION)}`,
        });
        // The client saw each request later than the server by both processes' event-loop delays (seconds on a
        // loaded 2-core machine); the server's timer can never exceed what the client saw.
        assert.ok(typeof p99 === "number" && p99 > slowest - CLIENT_LATENESS_ALLOWANCE_MS && p99 <= slowest, `p99 ${p99} ms, slowest request seen by the client ${slowest} ms`);
      });
    }
  }

  it("carbon dropped no point of a new series (droppedCreates 0 in every report) and created every file it needed", async () => {
    const graphite = new GraphiteApi(stack.graphiteUrl);
    const reported = async (stat: string) => (await graphite.render(`sumSeries(carbon.agents.*.${stat})`, "-30min")).flatMap((s) => s.datapoints.map(([v]) => v).filter((v) => v !== null));
    const dropped = await reported("droppedCreates");
    assert.ok(dropped.length > 0, "carbon reported no droppedCreates at all");
    assert.deepEqual([...new Set(dropped)], [0]);
    assert.ok((await reported("creates")).reduce((a, b) => a! + b!, 0)! > 100, "carbon created fewer than 100 files");
  });

  it("a metric outside the catalog reaches Graphite under its own name", async () => {
    await sendStatsd(stack.statsdPort, "checkout.orders:2|c");
    const graphite = new GraphiteApi(stack.graphiteUrl);
    const found = await waitFor(async () => sumPoints(await graphite.render("stats_counts.checkout.orders", "-5min")) === 2, 40_000, 500);
    assert.ok(found, "stats_counts.checkout.orders did not count 2 within 40 s");
  });

  describe("an app that answered only 200s", () => {
    const graphite = () => new GraphiteApi(stack.graphiteUrl);
    const targets = (title: string) => panelByTitle(graphiteDashboard("quiet_api"), title).targets;
    /** A target's distinct non-null values over the last 30 minutes, with the prefix variable set to quiet_api. */
    const values = async (query: string) => {
      const series = await graphite().render(substitute(query, { prefix: "quiet_api" }), "-30min");
      return series.map((s) => s.datapoints.map(([v]) => v).filter((v) => v !== null));
    };

    before(async () => {
      const quiet = await startAppProcess(group, "graphite", stack.statsdPort, { metricPrefix: "quiet_api" });
      const counted = await waitFor(async () => {
        await (await fetch(`${quiet.url}/`)).text();
        return (await graphiteRequestsSince(graphite(), "quiet_api")) > 0;
      }, 60_000, 500);
      assert.ok(counted, "Graphite saw no traffic from quiet_api within 60 s");
    });

    it("Server errors in range reads 0, not no data", async () => {
      const [series, ...more] = await values(queryOf(targets("Server errors in range")[0]!));
      assert.equal(more.length, 0);
      // The stat panel shows the last non-null point (reducer lastNotNull).
      assert.equal(series?.at(-1), 0);
    });

    it("Error ratio by status class draws 4xx and 5xx at 0, not no data", async () => {
      const drawn: Record<string, number[]> = {};
      for (const target of targets("Error ratio by status class")) {
        drawn[target.refId] = [...new Set((await values(queryOf(target))).flat())] as number[];
      }
      assert.deepEqual(drawn, { A: [0], B: [0] });
    });
  });

  describe("the pipeline health dashboard", () => {
    const graphite = () => new GraphiteApi(stack.graphiteUrl);
    const dashboard = graphiteHealthDashboard();
    const shown = (from: string, maxDataPoints?: number) => graphiteStatValues(graphite(), dashboard, {}, from, maxDataPoints);
    const ranges = [["15 minutes", "-15min"], ["12 hours", "-12h"]] as const;

    it("every query of every panel returns data after the load", () => {
      assert.deepEqual(failedPanels(result.healthPanels), []);
      // 4 stats; packets, lines and kernel drops, bad lines, stats per flush, flush time and lag, carbon's received
      // and committed, creates, dropped creates and errors, cache points and series.
      assert.equal(result.healthPanels.length, 18);
    });

    it("statsd and carbon write every path the dashboard reads", async () => {
      const paths = [...Object.values(STATSD_OWN_PATHS), ...Object.values(CARBON_OWN_METRICS).map((m) => `${CARBON_AGENTS}.${m}`)];
      const missing: string[] = [];
      for (const p of paths) if ((await graphite().find(p)).length === 0) missing.push(p);
      assert.deepEqual(missing, []);
    });

    for (const [range, from] of ranges) {
      for (const [width, maxDataPoints] of widths) {
        it(`each stat panel shows what statsd and carbon counted, over ${range} ${width}`, async () => {
          const { "StatsD packets received in range": packets, "Carbon cache size": cache, ...exact } = await shown(from, maxDataPoints);
          assert.deepEqual(exact, { "StatsD bad lines in range": 0, "Carbon dropped creates in range": 0 });
          assert.ok(typeof packets === "number" && Number.isInteger(packets) && packets > 0, `packets ${packets}`);
          assert.ok(typeof cache === "number" && cache >= 0, `cache size ${cache}`);
        });
      }
    }

    it("statsd counts at least one line in every packet it received", async () => {
      const [packets, lines] = await Promise.all(
        panelByTitle(dashboard, "StatsD packets and lines received").targets.map(async (t) => sumPoints(await graphite().render(queryOf(t), "-30min"))),
      );
      assert.ok(packets! > 0 && lines! >= packets!, `packets ${packets}/s summed, lines ${lines}/s summed`);
    });

    it("statsd's socket dropped nothing during the load: the panel's kernel drops are written, and sum to 0", async () => {
      const drops = panelByTitle(dashboard, "StatsD packets and lines received").targets[2]!;
      const series = await graphite().render(queryOf(drops), "-30min");
      assert.ok(hasPoints(series), "no drops series: the drops backend wrote nothing");
      assert.equal(sumPoints(series), 0);
    });

    describe("after three malformed lines", () => {
      const BAD_LINES = 3;
      let packetsBefore: number;

      before(async () => {
        // The 12-hour range holds the stack's whole life: what statsd counted can only grow in it.
        packetsBefore = (await shown("-12h"))["StatsD packets received in range"] as number;
        // A line without a value or type: statsd drops it and counts it as a bad line.
        for (let i = 0; i < BAD_LINES; i++) await sendStatsd(stack.statsdPort, `pipeline_health_bad_line_${i}`);
        const counted = await waitFor(async () => (await shown("-15min"))["StatsD bad lines in range"] === BAD_LINES, 40_000, 500);
        assert.ok(counted, `StatsD bad lines in range did not read ${BAD_LINES} within 40 s`);
      });

      for (const [range, from] of ranges) {
        for (const [width, maxDataPoints] of widths) {
          it(`StatsD bad lines in range reads exactly ${BAD_LINES}, over ${range} ${width}`, async () => {
            assert.equal((await shown(from, maxDataPoints))["StatsD bad lines in range"], BAD_LINES);
          });
        }
      }

      it("StatsD packets received in range grew by at least their datagrams", async () => {
        const packets = (await shown("-12h"))["StatsD packets received in range"] as number;
        assert.ok(packets >= packetsBefore + BAD_LINES, `${packetsBefore} packets, then ${packets}`);
      });

      it("the StatsD bad lines panel draws them: per second over statsd's flushes, they add up to the lines sent", async () => {
        const [target] = panelByTitle(dashboard, "StatsD bad lines").targets;
        const perSecond = sumPoints(await graphite().render(queryOf(target!), "-15min"));
        assert.equal(Math.round(perSecond * STATSD_FLUSH_SECONDS), BAD_LINES);
      });
    });
  });
});
