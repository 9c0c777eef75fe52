/**
 * The exporter topology's Prometheus rules, generated from the metric catalog and the stack config: recording rules
 * per app (request rate, server-error ratio, latency quantiles from the histogram) and alerting rules on the service
 * (server errors, p99 latency, an app that stopped reporting) and on the pipeline itself (statsd_exporter down,
 * losing events or flooded with series, Prometheus failing to evaluate rules or near its retention size). Prometheus reads the file beside prometheus.yml
 * (`rule_files` in pipeline/prometheus.ts) and evaluates it every scrape interval.
 */
import { stringify } from "yaml";
import { APP_LABEL, catalog, DEFAULT_INFO_INTERVAL_SECONDS, LATENCY_QUANTILES } from "../app/src/metrics/catalog";
import { CONFIG_KEYS } from "./config-keys";
import { EXPORTER_LOSS_COUNTERS, EXPORTER_OWN_METRICS, INFO_TTL_SECONDS } from "./exporter";
import { EXPORTER_JOB, PROMETHEUS_JOB } from "./prometheus";
import { quantileLabel } from "./quantiles";

/** The service alerts' thresholds: stack config keys (components/config.ts validates them). */
export interface AlertThresholds {
  /** AppHighServerErrorRatio fires above this share of requests answered 5xx; greater than 0, less than 1. */
  readonly serverErrorRatio: number;
  /** ...once it has held this long: a Prometheus duration. */
  readonly serverErrorFor: string;
  /** AppHighLatencyP99 fires above this 99th percentile latency, in seconds; positive. */
  readonly latencyP99Seconds: number;
  /** ...once it has held this long: a Prometheus duration. */
  readonly latencyFor: string;
  /** Exporter topology: StatsdExporterDown fires once Prometheus has failed to scrape statsd_exporter this long. */
  readonly exporterDownFor: string;
  /**
   * StatsdSeriesFlood fires when the pipeline holds more series than this: each statsd_exporter's series (exporter
   * topology), the stats in a statsd flush (graphite); a whole number of at least 1.
   */
  readonly seriesFlood: number;
}

/** The thresholds a stack gets when it sets none: the config keys' declared defaults. */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  serverErrorRatio: Number(CONFIG_KEYS.alertServerErrorRatio.default),
  serverErrorFor: CONFIG_KEYS.alertServerErrorFor.default,
  latencyP99Seconds: Number(CONFIG_KEYS.alertLatencyP99Seconds.default),
  latencyFor: CONFIG_KEYS.alertLatencyFor.default,
  exporterDownFor: CONFIG_KEYS.alertExporterDownFor.default,
  seriesFlood: Number(CONFIG_KEYS.alertSeriesFlood.default),
};

export interface RulesArgs {
  /** The stack's app (config `appName`): AppNotReporting fires when it is missing. */
  readonly appName: string;
  readonly thresholds: AlertThresholds;
  /**
   * Prometheus's `--storage.tsdb.retention.size` (config `prometheusRetentionSize`), e.g. "2GB"; undefined: none, and
   * no storage alert (without a size there is no limit to measure headroom against).
   */
  readonly retentionSize?: string;
}

/** The alerts about the app, which the pipeline measures: each says something only while the pipeline works. */
export const SERVICE_ALERTS = ["AppHighServerErrorRatio", "AppHighLatencyP99", "AppNotReporting"] as const;

/**
 * Which firing alert explains (and so mutes, in Alertmanager) which others: with statsd_exporter down, the app's
 * series go stale and the service alerts say nothing about the app.
 */
export const INHIBITIONS: readonly { readonly source: string; readonly targets: readonly string[] }[] = [
  { source: "StatsdExporterDown", targets: SERVICE_ALERTS },
];

/**
 * How long the series count must stay above the threshold before StatsdSeriesFlood fires: longer than a scan or a
 * one-off batch job that sends a burst of names, short next to the hours a flood takes to fill a disk.
 */
export const SERIES_FLOOD_FOR = "10m";
/** The highest alertSeriesFlood accepted: far past what one exporter or statsd can hold in memory. */
export const SERIES_FLOOD_MAX = 100_000_000;

/** PrometheusStorageNearRetentionSize fires when the TSDB takes more than this share of the retention size. */
export const STORAGE_HEADROOM_RATIO = 0.9;
export const STORAGE_HEADROOM_FOR = "15m";
/**
 * What Prometheus counts against `--storage.tsdb.retention.size`: persisted blocks, the WAL and the head's
 * memory-mapped chunks.
 */
export const TSDB_SIZE_METRICS = [
  "prometheus_tsdb_storage_blocks_bytes",
  "prometheus_tsdb_wal_storage_size_bytes",
  "prometheus_tsdb_head_chunks_storage_size_bytes",
] as const;

const UNITS_MS = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
/** Prometheus's duration syntax: units from years to milliseconds, each at most once and in that order; or "0". */
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** A Prometheus duration (`90s`, `5m`, `1h30m`, `0`) in milliseconds; undefined when Prometheus would refuse it. */
export function durationMs(text: string): number | undefined {
  if (text === "0") return 0;
  const match = DURATION.exec(text);
  if (text === "" || !match) return undefined;
  const units = Object.values(UNITS_MS);
  const ms = match.slice(1).reduce((total, n, i) => total + (n === undefined ? 0 : Number(n) * units[i]!), 0);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The window every rate and increase is taken over. */
export const RULE_WINDOW = "5m";
/** AppNotReporting waits this long after the info gauge expired (see {@link appNotReporting}). */
export const APP_NOT_REPORTING_FOR = "1m";
export const RULE_GROUPS = { recording: "statsd-stack-recording", alerting: "statsd-stack-alerts" } as const;

const requests = catalog.requests.prometheusName;
const duration = catalog.requestDuration.prometheusName;
/** The counter's name without `_total`, as recording rule names take it. */
const requestsBase = requests.replace(/_total$/, "");
const perApp = `sum by (${APP_LABEL})`;

/** Recording rule names, `level:metric:operations`: aggregated by app, over {@link RULE_WINDOW}. */
export const RECORDED = {
  requestRate: `${APP_LABEL}:${requestsBase}:rate${RULE_WINDOW}`,
  serverErrorRatio: `${APP_LABEL}:${requestsBase}_server_errors:ratio_rate${RULE_WINDOW}`,
  /** One per quantile the dashboards show. */
  latency: (q: (typeof LATENCY_QUANTILES)[number]) => `${APP_LABEL}:${duration}:${quantileLabel(q)}_rate${RULE_WINDOW}`,
};

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  /** Absent: the alert fires at the first evaluation its expression returns something. */
  readonly for?: string;
  readonly labels: { readonly severity: "critical" | "warning" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export function recordingRules(): RecordingRule[] {
  const rate = (selector: string) => `${perApp} (rate(${selector}[${RULE_WINDOW}]))`;
  return [
    { record: RECORDED.requestRate, expr: rate(requests) },
    {
      record: RECORDED.serverErrorRatio,
      // An app that never answered 5xx has no 5xx series: its ratio is 0 (not absent) while it has traffic.
      expr: `(${rate(`${requests}{status=~"5.."}`)} or 0 * ${rate(requests)}) / ${rate(requests)}`,
    },
    ...LATENCY_QUANTILES.map((q) => ({
      record: RECORDED.latency(q),
      expr: `histogram_quantile(${q}, sum by (${APP_LABEL}, le) (rate(${duration}_bucket[${RULE_WINDOW}])))`,
    })),
  ];
}

const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(12))}%`;
const exporterUp = `up{job="${EXPORTER_JOB}"}`;

/**
 * The stack's app is missing: its info gauge is absent while statsd_exporter is up. The app re-sends the gauge every
 * 15 s and the exporter drops it 60 s after the last one, so an app that stopped sending is missing about
 * 60 s + `for` later; a restarted exporter has it again within 15 s. (Its request counters are no sign: an idle app
 * has none until its first request, and the exporter keeps them after the app stops.)
 */
function appNotReporting(appName: string): AlertingRule {
  const info = `${catalog.info.prometheusName}{${APP_LABEL}=${JSON.stringify(appName)}}`;
  return {
    alert: "AppNotReporting",
    expr: `absent(${info}) and on () (${exporterUp} == 1)`,
    for: APP_NOT_REPORTING_FOR,
    labels: { severity: "critical" },
    annotations: {
      summary: `${appName} is not reporting metrics`,
      description:
        `${info} has been absent for ${APP_NOT_REPORTING_FOR} while statsd_exporter is up (${exporterUp} = 1): the app ` +
        `has sent no info gauge for over ${INFO_TTL_SECONDS + durationMs(APP_NOT_REPORTING_FOR)! / 1000}s (it re-sends it ` +
        `every ${DEFAULT_INFO_INTERVAL_SECONDS}s; the exporter forgets it ${INFO_TTL_SECONDS}s after the last one). ` +
        "It is down, or cannot reach statsd_exporter's StatsD port.",
    },
  };
}

/** One loss counter's rise, labelled with the counter's name (increase drops it, and the four would clash). */
const lossRise = (counter: string) =>
  `label_replace(increase(${counter}{job="${EXPORTER_JOB}"}[${RULE_WINDOW}]), "counter", "${counter}", "", "") > 0`;

/**
 * Too many series in a statsd_exporter: a flood of new names or label values (a client that puts an id in a name, a
 * scan of the StatsD port). Each series costs the exporter memory until its TTL (exporterOwnMetricsTtl outside the
 * catalog) and Prometheus a head series, so a flood ends in an OOM kill or in retention cut short.
 */
/** The series each statsd_exporter holds, one sample per exporter: what StatsdSeriesFlood compares. */
export const EXPORTER_SERIES_HELD = `sum by (job, instance) (${EXPORTER_OWN_METRICS.series}{job="${EXPORTER_JOB}"})`;

function seriesFlood(threshold: number): AlertingRule {
  const held = EXPORTER_SERIES_HELD;
  return {
    alert: "StatsdSeriesFlood",
    expr: `${held} > ${threshold}`,
    for: SERIES_FLOOD_FOR,
    labels: { severity: "warning" },
    annotations: {
      summary: "statsd_exporter {{ $labels.instance }} holds {{ $value | humanize }} series",
      description:
        `${held} = {{ $value | humanize }}: above ${threshold} (alertSeriesFlood) for ${SERIES_FLOOD_FOR}. ` +
        "A sender is creating new metric names or label values; each one costs the exporter memory until its TTL " +
        "and Prometheus a series. Find the names on exporterMetricsUrl.",
    },
  };
}

/** Prometheus's TSDB near its retention size: beyond it the oldest blocks go, before their retention time. */
function storageNearRetentionSize(retentionSize: string): AlertingRule {
  const job = `{job="${PROMETHEUS_JOB}"}`;
  return {
    alert: "PrometheusStorageNearRetentionSize",
    expr:
      `(${TSDB_SIZE_METRICS.map((m) => `${m}${job}`).join(" + ")}) / prometheus_tsdb_retention_limit_bytes${job} ` +
      `> ${STORAGE_HEADROOM_RATIO}`,
    for: STORAGE_HEADROOM_FOR,
    labels: { severity: "warning" },
    annotations: {
      summary: "Prometheus {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its retention size",
      description:
        `The TSDB (${TSDB_SIZE_METRICS.join(" + ")}) has taken {{ $value | humanizePercentage }} of ` +
        `prometheus_tsdb_retention_limit_bytes (${retentionSize}) for ${STORAGE_HEADROOM_FOR}: beyond it Prometheus ` +
        "deletes its oldest blocks, so history is shorter than the retention time.",
    },
  };
}

export function alertingRules({ appName, thresholds: t, retentionSize }: RulesArgs): AlertingRule[] {
  const app = `${APP_LABEL}="{{ $labels.${APP_LABEL} }}"`;
  return [
    {
      alert: "AppHighServerErrorRatio",
      expr: `${RECORDED.serverErrorRatio} > ${t.serverErrorRatio}`,
      for: t.serverErrorFor,
      labels: { severity: "critical" },
      annotations: {
        summary: `{{ $labels.${APP_LABEL} }} answers {{ $value | humanizePercentage }} of requests with a server error (5xx)`,
        description:
          `${RECORDED.serverErrorRatio}{${app}} = {{ $value | humanizePercentage }}: the share of ${requests} with a 5xx ` +
          `status over ${RULE_WINDOW} has been above ${percent(t.serverErrorRatio)} for ${t.serverErrorFor}.`,
      },
    },
    {
      alert: "AppHighLatencyP99",
      expr: `${RECORDED.latency(0.99)} > ${t.latencyP99Seconds}`,
      for: t.latencyFor,
      labels: { severity: "warning" },
      annotations: {
        summary: `{{ $labels.${APP_LABEL} }}'s 99th percentile latency is {{ $value | humanizeDuration }}`,
        description:
          `${RECORDED.latency(0.99)}{${app}} = {{ $value | humanizeDuration }}: the 99th percentile of ` +
          `${duration} over ${RULE_WINDOW} (from the histogram) has been above ${t.latencyP99Seconds}s for ${t.latencyFor}.`,
      },
    },
    appNotReporting(appName),
    {
      alert: "StatsdExporterDown",
      expr: `${exporterUp} == 0`,
      for: t.exporterDownFor,
      labels: { severity: "critical" },
      annotations: {
        summary: "statsd_exporter {{ $labels.instance }} is down",
        description:
          `${exporterUp} = {{ $value }} for {{ $labels.instance }}: Prometheus has failed to scrape statsd_exporter for ` +
          `${t.exporterDownFor}. StatsD events sent meanwhile are lost, and every app's metrics stop.`,
      },
    },
    {
      alert: "StatsdExporterLosingEvents",
      expr: EXPORTER_LOSS_COUNTERS.map(lossRise).join(" or "),
      labels: { severity: "warning" },
      annotations: {
        summary: "statsd_exporter {{ $labels.instance }} is losing StatsD events ({{ $labels.counter }})",
        description:
          `{{ $labels.counter }} rose by {{ $value | humanize }} in the last ${RULE_WINDOW}` +
          "{{ with $labels.reason }} (reason {{ . }}){{ end }}{{ with $labels.metric_name }} (metric {{ . }}){{ end }}: " +
          "statsd_exporter received events it could not turn into metrics, so the counts it serves are short.",
      },
    },
    {
      alert: "PrometheusRuleEvaluationFailures",
      expr: `increase(prometheus_rule_evaluation_failures_total{job="${PROMETHEUS_JOB}"}[${RULE_WINDOW}]) > 0`,
      labels: { severity: "warning" },
      annotations: {
        summary: "Prometheus failed to evaluate rules of group {{ $labels.rule_group }}",
        description:
          `prometheus_rule_evaluation_failures_total{rule_group="{{ $labels.rule_group }}"} rose by {{ $value | humanize }} ` +
          `in the last ${RULE_WINDOW}: the recording rules or alerts of that group are missing or stale.`,
      },
    },
    seriesFlood(t.seriesFlood),
    ...(retentionSize === undefined ? [] : [storageNearRetentionSize(retentionSize)]),
  ];
}

export interface RuleFile {
  readonly groups: readonly [
    { readonly name: string; readonly rules: readonly RecordingRule[] },
    { readonly name: string; readonly rules: readonly AlertingRule[] },
  ];
}

/** The rule file as a plain object: the recording group first, then the alerts that read it. */
export function prometheusRules(args: RulesArgs): RuleFile {
  return {
    groups: [
      { name: RULE_GROUPS.recording, rules: recordingRules() },
      { name: RULE_GROUPS.alerting, rules: alertingRules(args) },
    ],
  };
}

export function prometheusRulesYaml(args: RulesArgs): string {
  return `# Generated from app/src/metrics/catalog.ts and the stack config by pipeline/rules.ts; do not edit.\n${stringify(prometheusRules(args), { lineWidth: 0 })}`;
}
