/** The graphite topology's dashboard: the same questions as the Prometheus one, answered with Graphite functions. */
import { GRAPHITE_ROOT, graphitePaths } from "../pipeline/graphite";
import { quantileLabel, quantilePercent } from "../pipeline/quantiles";
import { DATASOURCE_UIDS } from "../pipeline/settings";
import { catalog, LATENCY_QUANTILES, wireType } from "../app/src/metrics/catalog";
import { dashboard, type Dashboard, type DatasourceRef } from "./model";

export const GRAPHITE_DASHBOARD_UID = "statsd-stack-graphite";
const ds: DatasourceRef = { type: "graphite", uid: DATASOURCE_UIDS.graphite };

/** The variable holding the metric prefix; its values are the prefixes that report an info gauge. */
const PREFIX_VAR = "prefix";

/**
 * Node positions in `stats[.timers|_counts].<prefix>.<metric>.<route>.<method>.<status>`: the route is node 3 in
 * `stats.*` and `stats_counts.*` paths, and node 4 under `stats.timers.*`.
 */
const ROUTE_NODE = 3;
const TIMER_ROUTE_NODE = 4;

/** What precedes the prefix in the info metric's path (`stats_counts`), and the node of the app name after it. */
const INFO_ROOT = GRAPHITE_ROOT[wireType(catalog.info, "graphite")];
const INFO_APP_NODE = graphitePaths("prefix").info.split(".").length;

export function graphiteDashboard(defaultPrefix: string): Dashboard {
  const p = graphitePaths(`$${PREFIX_VAR}`);
  const counts = `${p.requestCounts}.*.*.*`;
  // No path exists for a status class until it occurs: adding the total scaled by 0 makes it read 0, not "No data".
  const noneYet = `scale(sumSeries(${counts}), 0)`;
  const classRatio = (cls: string) =>
    `alias(asPercent(sumSeries(${p.requestCounts}.*.*.${cls}*, ${noneYet}), sumSeries(${counts})), '${cls}xx')`;
  return dashboard({
    uid: GRAPHITE_DASHBOARD_UID,
    title: "Sample API (StatsD + Graphite)",
    description: "Traffic, errors and latency of the sample API, from plain StatsD through statsd and carbon.",
    backend: "graphite",
    datasource: ds,
    variables: [
      {
        name: PREFIX_VAR,
        label: "Metric prefix",
        type: "query",
        datasource: ds,
        // Every app re-sends its info metric under <root>.<prefix>.app_info; statsd's own counts live under `statsd`.
        query: `${INFO_ROOT}.*`,
        definition: `${INFO_ROOT}.*`,
        regex: "/^(?!statsd$).*/",
        refresh: 2,
        includeAll: false,
        multi: false,
        current: { text: defaultPrefix, value: defaultPrefix },
      },
    ],
    panels: [
      {
        type: "stat",
        title: "Requests in range",
        description: "Requests answered during the dashboard's time range (sum of statsd's per-flush counts).",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        reducer: "sum",
        // When a range holds more points than the panel has pixels, graphite-web merges them by averaging, which
        // turns counts into less than the total: merged counts must be summed.
        targets: [{ refId: "A", target: `consolidateBy(sumSeries(${counts}), 'sum')` }],
      },
      {
        type: "stat",
        title: "Server errors in range",
        description: "Share of responses with a 5xx status during the dashboard's time range; no data only when there was no traffic.",
        w: 6,
        h: 5,
        unit: "percent",
        reducer: "lastNotNull",
        targets: [
          {
            refId: "A",
            // The last point is the share over the whole range; merged points keep the last, not an average.
            target: `consolidateBy(asPercent(integral(sumSeries(${p.requestCounts}.*.*.5*, ${noneYet})), integral(sumSeries(${counts}))), 'last')`,
          },
        ],
      },
      {
        type: "stat",
        title: "p99 latency in range",
        description: "Highest per-flush 99th percentile of any route during the range (statsd computes percentiles per flush).",
        w: 6,
        h: 5,
        unit: "ms",
        reducer: "max",
        // Merged points keep their highest value, so the panel's max is the range's max at any width.
        targets: [{ refId: "A", target: `consolidateBy(maxSeries(${p.requestTimers}.*.*.*.upper_99), 'max')` }],
      },
      {
        type: "stat",
        title: "Version",
        description: "The app name and version the app reported in the last minute: what runs now.",
        w: 6,
        h: 5,
        unit: "none",
        textMode: "name",
        // Only what was reported lately: statsd writes every app and version it has seen since it started, a
        // version without a report as 0, so after an upgrade or a stop the old one is still there, at 0.
        timeFrom: "1m",
        targets: [{ refId: "A", target: `aliasByNode(maximumAbove(${p.info}.*.*, 0), ${INFO_APP_NODE}, ${INFO_APP_NODE + 1})` }],
      },
      {
        type: "timeseries",
        title: "Request rate by route",
        description: "Requests per second, by route.",
        w: 12,
        h: 9,
        unit: "reqps",
        targets: [{ refId: "A", target: `groupByNode(${p.requestRates}.*.*.*, ${ROUTE_NODE}, 'sumSeries')` }],
      },
      {
        type: "timeseries",
        title: "Error ratio by status class",
        description: "Share of all responses that are 4xx and 5xx, in percent; a class that did not occur reads 0.",
        w: 12,
        h: 9,
        unit: "percent",
        targets: [
          { refId: "A", target: classRatio("4") },
          { refId: "B", target: classRatio("5") },
        ],
      },
      {
        type: "timeseries",
        title: "Latency percentiles",
        description: "statsd's per-flush percentiles; the slowest route at each flush (percentiles cannot be averaged).",
        w: 12,
        h: 9,
        unit: "ms",
        targets: LATENCY_QUANTILES.map((q, i) => {
          const target = `alias(maxSeries(${p.requestTimers}.*.*.*.upper_${quantilePercent(q)}), '${quantileLabel(q)}')`;
          return { refId: String.fromCharCode(65 + i), target };
        }),
      },
      {
        type: "timeseries",
        title: "Average latency by route",
        description: "Mean request latency per route: timer sum over timer count.",
        w: 12,
        h: 9,
        unit: "ms",
        targets: [
          {
            refId: "A",
            target: `aliasByNode(applyByNode(${p.requestTimers}.*.*.*.count, ${TIMER_ROUTE_NODE}, 'divideSeries(sumSeries(%.*.*.sum), sumSeries(%.*.*.count))', '%'), ${TIMER_ROUTE_NODE})`,
          },
        ],
      },
      {
        type: "timeseries",
        title: "p99 latency by route",
        description: "99th percentile of request latency per route (the slowest method and status of each route).",
        w: 24,
        h: 9,
        unit: "ms",
        targets: [
          { refId: "A", target: `groupByNode(${p.requestTimers}.*.*.*.upper_99, ${TIMER_ROUTE_NODE}, 'maxSeries')` },
        ],
      },
    ],
  });
}
