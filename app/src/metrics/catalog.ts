/**
 * The metric catalog: the one definition of every metric the sample API emits.
 *
 * The app emits from it; the Pulumi program imports it to generate the statsd_exporter mapping, the Graphite
 * (statsd + carbon) settings and both Grafana dashboards. Nothing here may import a runtime dependency: the root
 * project loads this file directly from `app/src`.
 */

/** The two StatsD wire styles the app speaks. */
export const METRICS_STYLES = ["graphite", "dogstatsd"] as const;
export type MetricsStyle = (typeof METRICS_STYLES)[number];

/** StatsD metric types the catalog uses, with their wire suffix. */
export const STATSD_TYPE_SUFFIX = { timer: "ms", counter: "c", gauge: "g" } as const;
export type StatsdType = keyof typeof STATSD_TYPE_SUFFIX;

/** One metric: how the app sends it and what it becomes downstream. */
export interface MetricDefinition {
  /** StatsD key after the configurable prefix, e.g. `http_requests` is sent as `sample_api.http_requests`. */
  readonly key: string;
  readonly type: StatsdType;
  /**
   * The type the Graphite style sends instead of {@link type}, where statsd on its defaults would make `type` mean
   * something else: see {@link wireType}.
   */
  readonly graphiteType?: StatsdType;
  /** The unit of the value on the wire. */
  readonly unit: "milliseconds" | "requests" | "info";
  /**
   * Dimensions, in the order the Graphite style encodes them as name segments. In the DogStatsD style they are
   * tags, and every event also carries {@link APP_LABEL} as a global tag.
   */
  readonly labels: readonly string[];
  /** The Prometheus name statsd_exporter maps the metric to (a timer becomes a histogram in seconds). */
  readonly prometheusName: string;
  readonly help: string;
}

/** The tag every DogStatsD event carries, so that dashboards can tell apps apart. */
export const APP_LABEL = "app_name";

/** Request dimensions. Their values are bounded: see `normaliseMethod` and the route table. */
export const REQUEST_LABELS = ["route", "method", "status"] as const;

export const catalog = {
  requestDuration: {
    key: "http_request_duration_ms",
    type: "timer",
    unit: "milliseconds",
    labels: REQUEST_LABELS,
    prometheusName: "http_request_duration_seconds",
    help: "Time from the request's arrival to the end of its response, by route template, method and status.",
  },
  requests: {
    key: "http_requests",
    type: "counter",
    unit: "requests",
    labels: REQUEST_LABELS,
    prometheusName: "http_requests_total",
    help: "Requests answered, by route template, method and status.",
  },
  info: {
    key: "app_info",
    type: "gauge",
    // statsd, on its defaults, re-sends a gauge's last value at every flush until it restarts, so an info gauge
    // would read "running" for a stopped app or a replaced version; an idle counter is written as 0 instead, so
    // Graphite holds how many reports each flush received and "reported lately" is a query.
    graphiteType: "counter",
    unit: "info",
    labels: [APP_LABEL, "version"],
    prometheusName: "app_info",
    help: "Always 1; its labels name the running app and its version. Re-sent periodically.",
  },
} as const satisfies Record<string, MetricDefinition>;

/**
 * The StatsD type a metric is sent as in a wire style: its {@link MetricDefinition.type}, but in the Graphite style
 * its `graphiteType` where it has one. The DogStatsD style keeps the type statsd_exporter maps (an info gauge of 1,
 * which the exporter expires after its TTL); the Graphite style feeds Etsy statsd, whose defaults repeat gauges.
 */
export function wireType(metric: MetricDefinition, style: MetricsStyle): StatsdType {
  return style === "graphite" ? (metric.graphiteType ?? metric.type) : metric.type;
}

/** Every metric of the catalog, in a stable order. */
export const allMetrics: readonly MetricDefinition[] = Object.values(catalog);

/**
 * Latency quantiles the dashboards show. statsd computes them per flush (`percentThreshold`); Prometheus estimates
 * them from the histogram with `histogram_quantile`.
 */
export const LATENCY_QUANTILES = [0.5, 0.9, 0.99] as const;

/**
 * Histogram buckets in seconds, fitted to the endpoints: `/` and `/cpu_task` take about a millisecond,
 * `/io_task` 2 s, `/random_sleep` anything up to 5 s.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10,
] as const;

/** The route value every unmatched path shares, so random URLs cannot create new series. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * The route value of every request the server refused before any route was looked up: a request Node could not parse
 * (400) or whose headers were too large (431), a client too slow to send its request (408), an HTTP/1.1 request
 * without Host (400), an expectation other than 100-continue (417), CONNECT (405), and a connection over the server's
 * connection limit (503, though Node closes it without a response). Counted in the request counter only, not timed:
 * no handler ran. Its status is the one sent (the cap excepted).
 */
export const REJECTED_ROUTE = "rejected";

/**
 * The status a connection over the server's connection limit is counted with. Node closes it as soon as it is
 * accepted, before reading a byte, so the client gets no response at all (a proxy in front answers its own client 502
 * or 503); 503 says what happened (the server was unavailable to it) and puts it among the server errors that the
 * error ratio and its alert watch.
 */
export const OVER_CONNECTION_LIMIT_STATUS = 503;

/** Methods reported as themselves; any other method is reported as {@link OTHER_METHOD}. */
export const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const OTHER_METHOD = "OTHER";

/** Defaults shared by the app and the program. */
export const DEFAULT_METRIC_PREFIX = "sample_api";
export const DEFAULT_APP_NAME = "sample-api";
/** How often the info metric is re-sent (seconds): shorter than any TTL or flush a backend applies. */
export const DEFAULT_INFO_INTERVAL_SECONDS = 15;
