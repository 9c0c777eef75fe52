/**
 * The "Pipeline health" dashboards: every panel answers with a query, a unit and a legend, and each reads exactly the
 * daemons' own metrics the pipeline names once (pipeline/exporter.ts, pipeline/prometheus.ts, pipeline/graphite.ts),
 * which the local tier checks against the real statsd_exporter, Prometheus, statsd and carbon.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { graphiteDashboard } from "../../dashboards/graphite";
import { panelByTitle, queryOf, type Dashboard, type Target } from "../../dashboards/model";
import { GRAPHITE_HEALTH_DASHBOARD_UID, graphiteHealthDashboard } from "../../dashboards/pipeline-health-graphite";
import { EXPORTER_HEALTH_DASHBOARD_UID, exporterHealthDashboard } from "../../dashboards/pipeline-health-prometheus";
import { prometheusDashboard } from "../../dashboards/prometheus";
import { EXPORTER_LOSS_COUNTERS, EXPORTER_OWN_METRICS } from "../../pipeline/exporter";
import { CARBON_AGENTS, CARBON_OWN_METRICS, STATSD_OWN_PATHS, statsdConfigJs, storageAggregationConf } from "../../pipeline/graphite";
import { EXPORTER_JOB, PROMETHEUS_JOB, PROMETHEUS_OWN_METRICS, SCRAPE_SERIES } from "../../pipeline/prometheus";
import { DATASOURCE_UIDS } from "../../pipeline/settings";

const exporterHealth = exporterHealthDashboard();
const graphiteHealth = graphiteHealthDashboard();
const queries = (d: Dashboard) => d.panels.flatMap((p) => p.targets.map(queryOf));

/** The metric names a PromQL expression reads: what is left once strings, matchers, ranges, groupings and functions are removed. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\banchored\b/g, " ");
  const names = [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)].filter((m) => !m[2]).map((m) => m[1]!);
  return [...new Set(names.filter((n) => !["and", "or", "unless", "bool", "offset"].includes(n)))];
}

/** The Graphite paths a target reads: dotted names once quoted aliases are removed. */
function graphitePathsIn(target: string): string[] {
  return [...target.replace(/'[^']*'/g, " ").matchAll(/[A-Za-z_*][\w*-]*(?:\.[\w*-]+)+/g)].map((m) => m[0]);
}

/** What a target is called in the panel's legend: its legendFormat (Prometheus) or the name its alias() gives (Graphite). */
const legendOf = (target: Target) => ("expr" in target ? target.legendFormat ?? "" : /^alias\(.*, '([^']+)'\)$/.exec(target.target)?.[1] ?? "");

describe("pipeline health dashboards", () => {
  const all = [prometheusDashboard(), graphiteDashboard("sample_api"), exporterHealth, graphiteHealth];

  it("have their own stable uids and titles, distinct from the app dashboards'", () => {
    assert.deepEqual([EXPORTER_HEALTH_DASHBOARD_UID, GRAPHITE_HEALTH_DASHBOARD_UID], ["statsd-stack-pipeline-exporter", "statsd-stack-pipeline-graphite"]);
    assert.deepEqual([exporterHealth.uid, graphiteHealth.uid], [EXPORTER_HEALTH_DASHBOARD_UID, GRAPHITE_HEALTH_DASHBOARD_UID]);
    assert.deepEqual([exporterHealth.title, graphiteHealth.title], ["Pipeline health (statsd_exporter + Prometheus)", "Pipeline health (StatsD + Graphite)"]);
    assert.equal(new Set(all.map((d) => d.uid)).size, all.length);
    assert.equal(new Set(all.map((d) => d.title)).size, all.length);
  });

  it("read their topology's datasource and have no variable: they show the pipeline whatever app sends to it", () => {
    assert.deepEqual(
      [exporterHealth, graphiteHealth].map((d) => [d.tags, [...new Set(d.panels.map((p) => p.datasource.uid))], d.templating.list.length]),
      [
        [["statsd-stack", "prometheus"], [DATASOURCE_UIDS.prometheus], 0],
        [["statsd-stack", "graphite"], [DATASOURCE_UIDS.graphite], 0],
      ],
    );
  });

  for (const d of [exporterHealth, graphiteHealth]) {
    it(`${d.title}: every panel has a description, a unit and a query per target; a stat one target, a time series a legend per target`, () => {
      for (const panel of d.panels) {
        assert.ok(panel.description && panel.description.length > 20, `${panel.title}: no description`);
        assert.ok(typeof panel.fieldConfig.defaults.unit === "string" && panel.fieldConfig.defaults.unit !== "", `${panel.title}: no unit`);
        assert.ok(panel.targets.length > 0, `${panel.title}: no target`);
        assert.equal(new Set(panel.targets.map((t) => t.refId)).size, panel.targets.length, `${panel.title}: refIds repeat`);
        for (const t of panel.targets) assert.ok(queryOf(t).trim() !== "", `${panel.title} ${t.refId}: empty query`);
        if (panel.type === "stat") assert.equal(panel.targets.length, 1, panel.title);
        else for (const t of panel.targets) assert.ok(legendOf(t) !== "", `${panel.title} ${t.refId}: no legend`);
      }
      assert.equal(new Set(d.panels.map((p) => p.title)).size, d.panels.length, "panel titles repeat");
    });
  }
});

describe("pipeline health (statsd_exporter + Prometheus)", () => {
  const ownExporter = [...Object.values(EXPORTER_OWN_METRICS), ...EXPORTER_LOSS_COUNTERS];
  const ownPrometheus = Object.values(PROMETHEUS_OWN_METRICS);

  it("reads exactly statsd_exporter's and Prometheus's own metrics and scrape series that pipeline/ names, every one of them", () => {
    const read = new Set(queries(exporterHealth).flatMap(metricNames));
    assert.deepEqual([...read].sort(), [...ownExporter, ...ownPrometheus, ...Object.values(SCRAPE_SERIES)].sort());
  });

  it("reads statsd_exporter's metrics from its scrape job and Prometheus's from its own", () => {
    for (const q of queries(exporterHealth)) {
      for (const name of ownExporter) for (const m of q.matchAll(new RegExp(`\\b${name}\\b(.{0,40})`, "g"))) assert.match(m[1]!, new RegExp(`^\\{job="${EXPORTER_JOB}"`), q);
      for (const name of ownPrometheus) for (const m of q.matchAll(new RegExp(`\\b${name}\\b(.{0,40})`, "g"))) assert.match(m[1]!, new RegExp(`^\\{job="${PROMETHEUS_JOB}"\\}`), q);
    }
  });

  it("shows counts in range as exact increases over the dashboard's range (anchored), never a raw cumulative counter", () => {
    for (const panel of exporterHealth.panels.filter((p) => p.type === "stat" && p.title !== "statsd_exporter up")) {
      const query = queryOf(panel.targets[0]!);
      assert.match(query, /increase\([^)]*\[\$__range\] anchored\)/, panel.title);
      assert.doesNotMatch(query, /\[\$__range\]\)/, `${panel.title}: an increase without anchored`);
    }
    assert.equal(queryOf(panelByTitle(exporterHealth, "statsd_exporter up").targets[0]!), `min(up{job="${EXPORTER_JOB}"})`);
  });

  it("adds up every loss counter in Drops and errors in range, each reading 0 before its first event instead of no data", () => {
    const query = queryOf(panelByTitle(exporterHealth, "Drops and errors in range").targets[0]!);
    assert.deepEqual(metricNames(query), [...EXPORTER_LOSS_COUNTERS]);
    assert.equal(query.split(" + ").length, EXPORTER_LOSS_COUNTERS.length);
    for (const term of query.split(" + ")) assert.match(term, /^\(sum\(increase\(.*\[\$__range\] anchored\)\) or vector\(0\)\)$/);
  });

  it("draws one series per loss counter in Drops and errors, each 0 before its first event", () => {
    const targets = panelByTitle(exporterHealth, "Drops and errors").targets;
    assert.deepEqual(targets.map((t) => metricNames(queryOf(t))), EXPORTER_LOSS_COUNTERS.map((c) => [c]));
    assert.deepEqual(targets.map(legendOf), ["UDP packets dropped", "malformed samples", "malformed tags", "type conflicts"]);
    for (const t of targets) assert.match(queryOf(t), / or vector\(0\)\)$/);
  });

  it("counts as mapped the events the catalog's mappings matched (action map), and as unmapped those that pass through", () => {
    assert.deepEqual(
      panelByTitle(exporterHealth, "Mapped and unmapped events").targets.map((t) => [legendOf(t), queryOf(t)]),
      [
        ["mapped", `(sum(rate(statsd_exporter_events_actions_total{job="${EXPORTER_JOB}", action="map"}[$__rate_interval])) or vector(0))`],
        ["unmapped", `sum(rate(statsd_exporter_events_unmapped_total{job="${EXPORTER_JOB}"}[$__rate_interval]))`],
      ],
    );
  });

  it("names rule groups without their rule file's path", () => {
    for (const title of ["Rule evaluations and failures", "Rule group evaluation time"]) {
      for (const t of panelByTitle(exporterHealth, title).targets) {
        assert.match(queryOf(t), /^label_replace\(.*, "group", "\$1", "rule_group", ".\*;\(\.\*\)"\)$/, title);
        assert.match(legendOf(t), /^\{\{group\}\}/, title);
      }
    }
  });
});

describe("pipeline health (StatsD + Graphite)", () => {
  const carbonPaths = Object.values(CARBON_OWN_METRICS).map((m) => `${CARBON_AGENTS}.${m}`);

  it("reads exactly statsd's own stats and carbon's self-metrics that pipeline/graphite.ts names, every one of them", () => {
    const read = new Set(queries(graphiteHealth).flatMap(graphitePathsIn));
    assert.deepEqual([...read].sort(), [...Object.values(STATSD_OWN_PATHS), ...carbonPaths].sort());
  });

  it("finds statsd's own stats where the generated statsd config makes statsd write them: legacy namespace, default prefixStats", () => {
    const config = new Function(`return ${statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: 2003, port: 8125, mgmtPort: 8126 }).replace(/^\/\/.*\n/, "")}`)();
    assert.equal(config.graphite.legacyNamespace, true);
    assert.equal("prefixStats" in config, false);
    assert.deepEqual(Object.values(STATSD_OWN_PATHS), [
      "stats_counts.statsd.packets_received",
      "stats.statsd.packets_received",
      "stats.statsd.metrics_received",
      "stats_counts.statsd.bad_lines_seen",
      "stats.statsd.bad_lines_seen",
      "statsd.numStats",
      "stats.statsd.graphiteStats.flush_time",
      "stats.gauges.statsd.timestamp_lag",
      "stats.statsd.udp_receive_buffer_drops",
    ]);
  });

  it("reads carbon's self-metrics from any carbon agent: the agent's name differs between the image and Debian's carbon", () => {
    assert.deepEqual(carbonPaths, [
      "carbon.agents.*.metricsReceived",
      "carbon.agents.*.committedPoints",
      "carbon.agents.*.creates",
      "carbon.agents.*.droppedCreates",
      "carbon.agents.*.errors",
      "carbon.agents.*.cache.size",
      "carbon.agents.*.cache.queues",
    ]);
  });

  it("relies on carbon summing counts into coarser archives and averaging levels and rates, so rates and counts in range hold at every zoom", () => {
    const rules = [...storageAggregationConf().matchAll(/^pattern = (.*)\nxFilesFactor = .*\naggregationMethod = (\w+)$/gm)].map((m) => [new RegExp(m[1]!), m[2]!] as const);
    const methodOf = (path: string) => rules.find(([pattern]) => pattern.test(path))?.[1];
    const agent = (m: string) => `carbon.agents.graphite-a.${m}`;
    assert.deepEqual(
      Object.fromEntries(
        [
          ...Object.values(CARBON_OWN_METRICS).map(agent),
          STATSD_OWN_PATHS.packetsPerFlush,
          STATSD_OWN_PATHS.badLinesPerFlush,
          STATSD_OWN_PATHS.packetsPerSecond,
          STATSD_OWN_PATHS.statsPerFlush,
          STATSD_OWN_PATHS.flushTimeMs,
        ].map((p) => [p, methodOf(p)]),
      ),
      {
        [agent("metricsReceived")]: "sum",
        [agent("committedPoints")]: "sum",
        [agent("creates")]: "sum",
        [agent("droppedCreates")]: "sum",
        [agent("errors")]: "sum",
        [agent("cache.size")]: "average",
        [agent("cache.queues")]: "average",
        "stats_counts.statsd.packets_received": "sum",
        "stats_counts.statsd.bad_lines_seen": "sum",
        "stats.statsd.packets_received": "average",
        "statsd.numStats": "average",
        "stats.statsd.graphiteStats.flush_time": "average",
      },
    );
  });

  it("sums merged points of a count in range, keeps the last for the cache size, and turns carbon's per-report counts into rates", () => {
    const stat = (title: string) => queryOf(panelByTitle(graphiteHealth, title).targets[0]!);
    assert.deepEqual(
      ["StatsD packets received in range", "StatsD bad lines in range", "Carbon dropped creates in range", "Carbon cache size"].map(stat),
      [
        "consolidateBy(stats_counts.statsd.packets_received, 'sum')",
        "consolidateBy(stats_counts.statsd.bad_lines_seen, 'sum')",
        "consolidateBy(sumSeries(carbon.agents.*.droppedCreates), 'sum')",
        "consolidateBy(sumSeries(carbon.agents.*.cache.size), 'last')",
      ],
    );
    assert.deepEqual(
      graphiteHealth.panels.filter((p) => p.type === "stat").map((p) => (p.options.reduceOptions as { calcs: string[] }).calcs),
      [["sum"], ["sum"], ["sum"], ["lastNotNull"]],
    );
    for (const t of panelByTitle(graphiteHealth, "Carbon points received and committed").targets) assert.match(queryOf(t), /^alias\(scaleToSeconds\(sumSeries\(carbon\.agents\.\*\.\w+\), 1\), '\w+'\)$/);
    for (const t of panelByTitle(graphiteHealth, "Carbon creates, dropped creates and errors").targets) assert.match(queryOf(t), /^alias\(scaleToSeconds\(sumSeries\(carbon\.agents\.\*\.\w+\), 60\), '[\w ]+'\)$/);
  });
});
