/** statsd_exporter's mapping, generated from the metric catalog. */
import { stringify } from "yaml";
import { allMetrics, APP_LABEL, LATENCY_BUCKETS_SECONDS, type MetricDefinition } from "../../app/src/metrics/catalog";

/** The name statsd_exporter gives events that match no catalog metric: they are dropped, and counted. */
export const UNMAPPED_DROP_RULE_NAME = "unmapped";

const MATCH_METRIC_TYPE = { timer: "observer", counter: "counter", gauge: "gauge" } as const;

function mapping(prefix: string, metric: MetricDefinition) {
  return {
    match: `${prefix}.${metric.key}`,
    match_metric_type: MATCH_METRIC_TYPE[metric.type],
    name: metric.prometheusName,
    help: `${metric.help} Labels: ${[...new Set([APP_LABEL, ...metric.labels])].join(", ")}.`,
    ...(metric.type === "timer"
      ? { observer_type: "histogram", histogram_options: { buckets: [...LATENCY_BUCKETS_SECONDS] } }
      : {}),
  };
}

/** The mapping as a plain object. */
export function exporterMapping(prefix: string) {
  return {
    defaults: {
      // Timers are histograms: quantiles can then be aggregated across replicas, which summaries cannot.
      observer_type: "histogram",
      histogram_options: { buckets: [...LATENCY_BUCKETS_SECONDS] },
      match_type: "glob",
      // Series live until the exporter restarts; the app re-sends its info gauge, so nothing goes stale for good.
      ttl: "0s",
    },
    mappings: [
      ...allMetrics.map((m) => mapping(prefix, m)),
      // Anything else is dropped rather than passed through under an escaped name: the drop is counted in
      // statsd_exporter_events_actions_total{action="drop"}, which the exporter dashboard row shows.
      { match: ".+", match_type: "regex", action: "drop", name: UNMAPPED_DROP_RULE_NAME },
    ],
  };
}

export function exporterMappingYaml(prefix: string): string {
  return `# Generated from app/src/metrics/catalog.ts by components/pipeline/exporter-mapping.ts; do not edit.\n${stringify(exporterMapping(prefix))}`;
}
