/**
 * The graphite topology keeps statsd's and carbon's semantics for a team's own metrics: the generated statsd config
 * changes nothing statsd writes but the dashboards' extra percentiles, carbon's rollup rules touch only statsd's
 * counts and timer fields, and the app's info metric is a counter in the Graphite style so that "reported lately"
 * is a query (local tier: test/local/own-metrics-graphite.test.ts, grafana-alerts-graphite.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allMetrics, catalog, wireType } from "../../app/src/metrics/catalog";
import { graphiteDashboard } from "../../dashboards/graphite";
import { panelByTitle, queryOf } from "../../dashboards/model";
import { aggregationOf, AGGREGATION_RULES, CARBON_DEFAULT_AGGREGATION, graphitePaths, statsdConfigJs, storageAggregationConf } from "../../pipeline/graphite";

const statsdConfig = (): Record<string, unknown> =>
  new Function(`return ${statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: 2003, port: 8125, mgmtPort: 8126 }).replace(/^\/\/.*\n/, "")}`)();

/** Where statsd listens and sends: settings that change nothing it writes. */
const TRANSPORT = ["graphiteHost", "graphitePort", "port", "mgmt_port", "mgmt_address", "servers"];

describe("statsd's config keeps statsd's defaults for every metric", () => {
  it("sets only statsd's own defaults (flush 10 s, legacy names, no deleting) and the dashboards' percentiles 50, 90, 99", () => {
    const semantic = Object.fromEntries(Object.entries(statsdConfig()).filter(([k]) => !TRANSPORT.includes(k)));
    assert.deepEqual(semantic, {
      flushInterval: 10_000,
      percentThreshold: [50, 90, 99],
      graphite: { legacyNamespace: true },
      deleteIdleStats: false,
      deleteGauges: false,
    });
  });

  it("keeps an idle gauge's last value: deleteGauges false, and no gaugesMaxTTL, deleteCounters, deleteTimers or deleteSets", () => {
    const config = statsdConfig();
    assert.equal(config.deleteGauges, false);
    for (const key of ["gaugesMaxTTL", "deleteCounters", "deleteTimers", "deleteSets", "flush_counts", "prefixStats", "keyNameSanitize"]) {
      assert.equal(key in config, false, key);
    }
  });
});

describe("carbon's rollup rules", () => {
  const methods = (paths: readonly string[]) => Object.fromEntries(paths.map((p) => [p, aggregationOf(p).method]));

  it("sum statsd's counts, keep a timer's extremes and add its counts and sums, as the first matching rule says", () => {
    assert.deepEqual(
      methods([
        "stats_counts.team.orders",
        "stats_counts.team.retries.count",
        "stats.timers.team.db_query.count",
        "stats.timers.team.db_query.count_90",
        "stats.timers.team.db_query.sum",
        "stats.timers.team.db_query.sum_squares_99",
        "stats.timers.team.db_query.upper",
        "stats.timers.team.db_query.upper_99",
        "stats.timers.team.db_query.lower",
        "carbon.agents.graphite-a.droppedCreates",
      ]),
      {
        "stats_counts.team.orders": "sum",
        "stats_counts.team.retries.count": "sum",
        "stats.timers.team.db_query.count": "sum",
        "stats.timers.team.db_query.count_90": "sum",
        "stats.timers.team.db_query.sum": "sum",
        "stats.timers.team.db_query.sum_squares_99": "sum",
        "stats.timers.team.db_query.upper": "max",
        "stats.timers.team.db_query.upper_99": "max",
        "stats.timers.team.db_query.lower": "min",
        "carbon.agents.graphite-a.droppedCreates": "sum",
      },
    );
  });

  it("average a gauge, a set's count and a counter's rate even when the name ends in count, sum, upper or lower, as carbon's default does", () => {
    const averaged = [
      "stats.gauges.team.jobs.count",
      "stats.gauges.team.disk.sum",
      "stats.gauges.team.pool.upper",
      "stats.gauges.team.pool.lower",
      "stats.sets.team.visitors.count",
      "stats.team.retries.count",
      "stats.team.orders",
      "stats.timers.team.db_query.count_ps",
      "stats.timers.team.db_query.mean_90",
      "stats.timers.team.db_query.median",
    ];
    assert.deepEqual(methods(averaged), Object.fromEntries(averaged.map((p) => [p, "average"])));
  });

  it("write a coarse point from any fine point (xFilesFactor 0); carbon's own default is average with 0.5", () => {
    assert.deepEqual(aggregationOf("stats_counts.team.orders"), { method: "sum", xFilesFactor: 0 });
    assert.deepEqual(aggregationOf("anything.else", []), { method: "average", xFilesFactor: 0.5 });
    assert.deepEqual(CARBON_DEFAULT_AGGREGATION, { method: "average", xFilesFactor: 0.5 });
  });

  it("are written to storage-aggregation.conf in order, one section each, with the same patterns", () => {
    const sections = [...storageAggregationConf().matchAll(/^\[(\w+)\]\npattern = (.*)\nxFilesFactor = (.*)\naggregationMethod = (\w+)$/gm)].map((m) => [m[1], m[2], m[3], m[4]]);
    assert.deepEqual(sections, AGGREGATION_RULES.map((r) => [r.name, r.pattern, "0", r.method]));
    assert.deepEqual(sections.map(([name]) => name), ["carbon_counts", "timer_min", "timer_max", "timer_sum", "counts", "default_average"]);
  });
});

describe("the info metric in the Graphite style", () => {
  it("is sent as a counter in the Graphite style and as a gauge in the DogStatsD style; every other metric as its type", () => {
    assert.deepEqual(
      allMetrics.map((m) => [m.key, wireType(m, "graphite"), wireType(m, "dogstatsd")]),
      [
        ["http_request_duration_ms", "timer", "timer"],
        ["http_requests", "counter", "counter"],
        ["app_info", "counter", "gauge"],
      ],
    );
    assert.equal(catalog.info.type, "gauge");
  });

  it("is read where statsd writes a counter's count per flush: stats_counts.<prefix>.app_info", () => {
    assert.equal(graphitePaths("shop").info, "stats_counts.shop.app_info");
  });

  it("feeds the Version panel only with versions counted in the last minute, named by app and version", () => {
    const version = panelByTitle(graphiteDashboard("sample_api"), "Version");
    assert.equal(version.timeFrom, "1m");
    assert.deepEqual(version.targets.map(queryOf), ["aliasByNode(maximumAbove(stats_counts.$prefix.app_info.*.*, 0), 3, 4)"]);
  });

  it("feeds the prefix variable with the nodes under stats_counts, statsd's own excluded", () => {
    const variable = graphiteDashboard("sample_api").templating.list[0]!;
    assert.deepEqual([variable.query, variable.definition, variable.regex], ["stats_counts.*", "stats_counts.*", "/^(?!statsd$).*/"]);
  });
});
