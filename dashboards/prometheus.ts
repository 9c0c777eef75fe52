/** The exporter topology's dashboard: PromQL over the metrics statsd_exporter maps from the catalog. */
import { APP_LABEL, catalog, LATENCY_QUANTILES } from "../app/src/metrics/catalog";
import { quantileLabel } from "../pipeline/quantiles";
import { DATASOURCE_UIDS } from "../pipeline/settings";
import { dashboard, type Dashboard, type DatasourceRef, type Target } from "./model";

export const PROMETHEUS_DASHBOARD_UID = "statsd-stack-prometheus";
const ds: DatasourceRef = { type: "prometheus", uid: DATASOURCE_UIDS.prometheus };

const requests = catalog.requests.prometheusName;
const duration = catalog.requestDuration.prometheusName;
const info = catalog.info.prometheusName;
/** Every query is filtered to the app chosen in the `app_name` variable. */
const app = `${APP_LABEL}="$${APP_LABEL}"`;

/**
 * A status class's series exists only once that class occurred: `or vector(0)` makes a sum over it read 0, not
 * "No data" (divided by all requests, it still reads "No data" when there was no traffic at all).
 */
const orZero = (sum: string) => `(${sum} or vector(0))`;

/**
 * Requests in the dashboard's range, exactly: `anchored` takes no extrapolation to the range's edges, and the zero
 * Prometheus writes at a series' created timestamp makes a new series' first value count (see prometheus.ts).
 */
const inRange = (selector: string) => `increase(${selector}[$__range] anchored)`;

/** One status class's share of all responses. */
const classRatio = (refId: string, cls: string): Target => ({
  refId,
  expr:
    `${orZero(`sum(rate(${requests}{${app}, status=~"${cls}.."}[$__rate_interval]))`)}` +
    ` / sum(rate(${requests}{${app}}[$__rate_interval]))`,
  legendFormat: `${cls}xx`,
});

const quantileTargets = (by: string): Target[] =>
  LATENCY_QUANTILES.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    expr: `histogram_quantile(${q}, sum by (${by}) (rate(${duration}_bucket{${app}}[$__rate_interval])))`,
    legendFormat: quantileLabel(q),
  }));

export function prometheusDashboard(): Dashboard {
  return dashboard({
    uid: PROMETHEUS_DASHBOARD_UID,
    title: "Sample API (statsd_exporter + Prometheus)",
    description: "Traffic, errors and latency of the sample API, from DogStatsD through statsd_exporter.",
    backend: "prometheus",
    datasource: ds,
    variables: [
      {
        name: APP_LABEL,
        label: "App",
        type: "query",
        datasource: ds,
        // Fed by the info gauge, which the app re-sends: the list fills again after an exporter restart.
        query: { query: `label_values(${info}, ${APP_LABEL})`, refId: "app" },
        definition: `label_values(${info}, ${APP_LABEL})`,
        refresh: 2,
        includeAll: false,
        multi: false,
      },
    ],
    panels: [
      {
        type: "stat",
        title: "Requests in range",
        description: "Requests answered during the dashboard's time range.",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        targets: [{ refId: "A", expr: `sum(${inRange(`${requests}{${app}}`)})`, instant: true }],
      },
      {
        type: "stat",
        title: "Server errors in range",
        description: "Share of responses with a 5xx status during the dashboard's time range; no data only when there was no traffic.",
        w: 6,
        h: 5,
        unit: "percentunit",
        targets: [
          {
            refId: "A",
            expr: `${orZero(`sum(${inRange(`${requests}{${app}, status=~"5.."}`)})`)} / sum(${inRange(`${requests}{${app}}`)})`,
            instant: true,
          },
        ],
      },
      {
        type: "stat",
        title: "p99 latency in range",
        description: "99th percentile of request latency over the dashboard's time range, all routes.",
        w: 6,
        h: 5,
        unit: "s",
        targets: [
          {
            refId: "A",
            expr: `histogram_quantile(0.99, sum by (le) (${inRange(`${duration}_bucket{${app}}`)}))`,
            instant: true,
          },
        ],
      },
      {
        type: "stat",
        title: "Version",
        description: "The version the app reports in its info gauge.",
        w: 6,
        h: 5,
        unit: "none",
        textMode: "name",
        targets: [{ refId: "A", expr: `max by (version) (${info}{${app}})`, legendFormat: "{{version}}", instant: true }],
      },
      {
        type: "timeseries",
        title: "Request rate by route",
        description: "Requests per second, by route template.",
        w: 12,
        h: 9,
        unit: "reqps",
        targets: [{ refId: "A", expr: `sum by (route) (rate(${requests}{${app}}[$__rate_interval]))`, legendFormat: "{{route}}" }],
      },
      {
        type: "timeseries",
        title: "Error ratio by status class",
        description: "Share of all responses that are 4xx and 5xx; a class that did not occur reads 0.",
        w: 12,
        h: 9,
        unit: "percentunit",
        targets: [classRatio("A", "4"), classRatio("B", "5")],
      },
      {
        type: "timeseries",
        title: "Latency percentiles",
        description: "Request latency quantiles over all routes, estimated from the histogram (aggregates across replicas).",
        w: 12,
        h: 9,
        unit: "s",
        targets: quantileTargets("le"),
      },
      {
        type: "timeseries",
        title: "Average latency by route",
        description: "Mean request latency per route: histogram sum over count.",
        w: 12,
        h: 9,
        unit: "s",
        targets: [
          {
            refId: "A",
            expr: `sum by (route) (rate(${duration}_sum{${app}}[$__rate_interval])) / sum by (route) (rate(${duration}_count{${app}}[$__rate_interval]))`,
            legendFormat: "{{route}}",
          },
        ],
      },
      {
        type: "timeseries",
        title: "p99 latency by route",
        description: "99th percentile of request latency per route.",
        w: 24,
        h: 9,
        unit: "s",
        targets: [
          {
            refId: "A",
            expr: `histogram_quantile(0.99, sum by (le, route) (rate(${duration}_bucket{${app}}[$__rate_interval])))`,
            legendFormat: "{{route}}",
          },
        ],
      },
    ],
  });
}
