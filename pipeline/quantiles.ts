/**
 * How the pipeline names a latency quantile of the catalog: by its whole percent. statsd computes `upper_99` for
 * percentThreshold 99, and the dashboards and recording rules call the same quantile `p99`.
 */

/** 0.99 -> 99. */
export const quantilePercent = (q: number): number => Math.round(q * 100);

/** 0.99 -> "p99": the legend and recording-rule name of a quantile. */
export const quantileLabel = (q: number): string => `p${quantilePercent(q)}`;
