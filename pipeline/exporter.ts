/**
 * statsd_exporter's mapping, generated from the metric catalog. Only the catalog's metrics are mapped; anything else
 * a user sends passes through under statsd_exporter's default naming (dots become underscores, DogStatsD tags
 * become labels), so the stack's StatsD port takes a team's own metrics as well, and treats them exactly as
 * statsd_exporter run without a mapping file would (see {@link STATSD_EXPORTER_DEFAULTS}).
 */
import { stringify } from "yaml";
import type { OwnMapping } from "./extensions";
import { allMetrics, APP_LABEL, catalog, DEFAULT_INFO_INTERVAL_SECONDS, LATENCY_BUCKETS_SECONDS, type MetricDefinition } from "../app/src/metrics/catalog";

const MATCH_METRIC_TYPE = { timer: "observer", counter: "counter", gauge: "gauge" } as const;

/**
 * The info gauge's series expire this long after the app last sent them (it re-sends every 15 s), so after an
 * upgrade the old version leaves the exporter, and Prometheus, instead of standing beside the new one for good.
 */
export const INFO_TTL_SECONDS = 4 * DEFAULT_INFO_INTERVAL_SECONDS;

function mapping(prefix: string, metric: MetricDefinition) {
  return {
    match: `${prefix}.${metric.key}`,
    match_metric_type: MATCH_METRIC_TYPE[metric.type],
    name: metric.prometheusName,
    help: `${metric.help} Labels: ${[...new Set([APP_LABEL, ...metric.labels])].join(", ")}.`,
    // The app's latency is a histogram (quantiles can be aggregated across replicas, which summaries cannot) with
    // buckets fitted to its endpoints, in seconds as statsd_exporter converts a `|ms` timer.
    ...(metric.type === "timer"
      ? { observer_type: "histogram", histogram_options: { buckets: [...LATENCY_BUCKETS_SECONDS] } }
      : {}),
    // Every catalog mapping names its TTL: a mapping without one takes the defaults' (for a team's metrics).
    ttl: metric === catalog.info ? `${INFO_TTL_SECONDS}s` : CATALOG_TTL,
  };
}

/**
 * The catalog's request and latency series never expire. statsd_exporter gives a mapping whose ttl is 0 the
 * defaults' ttl, so "never" is written as the longest a Go duration parses to a round number of hours (about 100
 * years): a counter that vanished would read as a reset.
 */
export const CATALOG_TTL = "876000h";

/**
 * How long a team's own series (any metric no mapping names) stay in statsd_exporter after their last event (config
 * `exporterOwnMetricsTtl`). statsd_exporter's own default keeps every series it has seen until it restarts, so a
 * flood of new names on the public StatsD port grows its memory until the container is killed; a day keeps every
 * series a live client sends (a counter that went away and comes back reads as a reset, which rate() and increase()
 * handle). "0s": never, as statsd_exporter's default.
 */
export const DEFAULT_OWN_METRICS_TTL = "24h";

/** A Go duration as statsd_exporter's `ttl` accepts it, in whole units: 24h, 90m, 30s, 1h30m, 0s. */
export const GO_DURATION = /^(0|(?=\d)(\d+h)?(\d+m)?(\d+s)?)$/;

/**
 * The mapping's `defaults`, which apply to every metric no mapping names, that is every metric but the catalog's:
 * statsd_exporter's own defaults (v0.30.0, `pkg/mapper`), written out. A team's metric then behaves as on a bare
 * statsd_exporter. In particular every observer (`|ms`, `|h`, `|d`) stays a summary (quantiles 0.5, 0.9 and 0.99
 * over 10 minutes): a mapping cannot tell a timer from a histogram or a distribution (all three are `observer`
 * events), and only `|ms` values are converted to seconds, so one set of default histogram buckets would be latency
 * buckets for a payload size in bytes too. The catalog's timer gets its histogram from its own mapping.
 */
export const STATSD_EXPORTER_DEFAULTS = {
  observer_type: "summary",
  match_type: "glob",
  ttl: "0s",
} as const;

/**
 * The mapping as a plain object. Its defaults are statsd_exporter's own but for the TTL of a team's series
 * (`ownMetricsTtl`, see {@link DEFAULT_OWN_METRICS_TTL}): the one deliberate difference, a guard against a flood of names.
 * A team's own mappings (config `exporterMappings`, checked by pipeline/extensions.ts) come after the catalog's:
 * statsd_exporter takes the first mapping that matches (globs in their order, then regular expressions), so they
 * can never change what the catalog's metrics become.
 */
export function exporterMapping(prefix: string, ownMetricsTtl: string = DEFAULT_OWN_METRICS_TTL, own: readonly OwnMapping[] = []) {
  if (!GO_DURATION.test(ownMetricsTtl)) throw new Error(`not a statsd_exporter ttl: ${JSON.stringify(ownMetricsTtl)}`);
  return {
    defaults: { ...STATSD_EXPORTER_DEFAULTS, ttl: ownMetricsTtl === "0" ? "0s" : ownMetricsTtl },
    mappings: [...allMetrics.map((m) => mapping(prefix, m)), ...own],
  };
}

export function exporterMappingYaml(prefix: string, ownMetricsTtl: string = DEFAULT_OWN_METRICS_TTL, own: readonly OwnMapping[] = []): string {
  return `# Generated from app/src/metrics/catalog.ts by pipeline/exporter.ts; do not edit.\n${stringify(exporterMapping(prefix, ownMetricsTtl, own))}`;
}

/**
 * statsd_exporter's own account of what it could not turn into metrics; all zero on a healthy pipeline. (Events no
 * mapping matches are not lost: they pass through under their own names, counted in events_unmapped_total.) The
 * smoke check and the benchmark read them; the exporter topology's alert rules fire when one rises.
 */
export const EXPORTER_LOSS_COUNTERS = [
  "statsd_exporter_udp_packet_drops_total",
  "statsd_exporter_sample_errors_total",
  "statsd_exporter_tag_errors_total",
  "statsd_exporter_events_conflict_total",
] as const;

/**
 * statsd_exporter's (v0.30.0) account of what it received and holds, beside {@link EXPORTER_LOSS_COUNTERS}: the
 * pipeline health dashboard reads these. A counter with labels (events by `type`, actions by `action`, sample errors
 * by `reason`, conflicts by `metric_name`) has no series until its first event, so queries over it need `or vector(0)`.
 */
export const EXPORTER_OWN_METRICS = {
  /** UDP datagrams received. */
  udpPackets: "statsd_exporter_udp_packets_total",
  /** StatsD lines received (a datagram holds one or more). */
  lines: "statsd_exporter_lines_total",
  /** Events by metric `type` (counter, gauge, observer). */
  events: "statsd_exporter_events_total",
  /** Events a mapping matched, by the mapping's `action`: `map` for every catalog mapping. */
  eventActions: "statsd_exporter_events_actions_total",
  /** Events no mapping matched: they pass through under statsd_exporter's default naming, not lost. */
  eventsUnmapped: "statsd_exporter_events_unmapped_total",
  /** Metric series statsd_exporter holds and serves, by `type` (a gauge, despite its name). */
  series: "statsd_exporter_metrics_total",
} as const;

export const EXPORTER_SERVICE = "statsd-exporter";
export const MAPPING_PATH = "/etc/statsd-exporter/mapping.yml";

/** statsd_exporter's command line: shared by the component and the local harness, which runs the real binary with it. */
export function exporterArgs(o: {
  mappingPath: string;
  statsdListen: string;
  webListen: string;
  /** The UDP socket's receive buffer in bytes (config `statsdReceiveBuffer`); 0 or undefined: the kernel's default. */
  readBufferBytes?: number;
}): string[] {
  return [
    `--statsd.mapping-config=${o.mappingPath}`,
    `--statsd.listen-udp=${o.statsdListen}`,
    `--statsd.listen-tcp=${o.statsdListen}`,
    `--web.listen-address=${o.webListen}`,
    ...(o.readBufferBytes ? [`--statsd.read-buffer=${o.readBufferBytes}`] : []),
  ];
}
