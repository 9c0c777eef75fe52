/**
 * How catalog metrics and their dimensions become StatsD keys. Pure functions, shared by the app (to emit) and the
 * Pulumi program (to build Graphite queries), so the two cannot drift.
 */
import { KNOWN_METHODS, OTHER_METHOD, REJECTED_ROUTE, UNMATCHED_ROUTE, type MetricDefinition } from "./catalog";

/** Characters that are safe in one Graphite path segment (no `.`: it separates segments). */
const UNSAFE_SEGMENT = /[^A-Za-z0-9_-]+/g;

/** One Graphite path segment: anything outside `[A-Za-z0-9_-]` becomes `_`; never empty. */
export function graphiteSegment(value: string): string {
  const cleaned = value.replace(UNSAFE_SEGMENT, "_").replace(/^_+|_+$/g, "");
  return cleaned === "" ? "_" : cleaned;
}

/** A route template as a Graphite segment: `/` is `root`, `/io_task` is `io_task`. */
export function routeSegment(route: string): string {
  if (route === "/") return "root";
  if (route === UNMATCHED_ROUTE || route === REJECTED_ROUTE) return route;
  return graphiteSegment(route);
}

/** A request method as reported: a known method, or {@link OTHER_METHOD}, so clients cannot invent series. */
export function normaliseMethod(method: string | undefined): string {
  if (method === "GET") return method; // nearly every request: skip the case folding and the search
  const upper = (method ?? "").toUpperCase();
  return (KNOWN_METHODS as readonly string[]).includes(upper) ? upper : OTHER_METHOD;
}

/**
 * The Graphite-style key of a metric with its dimensions as trailing segments, in the catalog's label order.
 * Throws when a label is missing, so a dimension can never be silently dropped from a name.
 */
export function graphiteKey(metric: MetricDefinition, labels: Readonly<Record<string, string>>): string {
  const segments = metric.labels.map((label) => {
    const value = labels[label];
    if (value === undefined) throw new Error(`metric ${metric.key}: missing label ${label}`);
    return label === "route" ? routeSegment(value) : graphiteSegment(value);
  });
  return [metric.key, ...segments].join(".");
}

/** DogStatsD tags (`key:value`) for a metric's labels, in the catalog's order. */
export function dogstatsdTags(metric: MetricDefinition, labels: Readonly<Record<string, string>>): string[] {
  return metric.labels.map((label) => {
    const value = labels[label];
    if (value === undefined) throw new Error(`metric ${metric.key}: missing label ${label}`);
    // `,` separates tags and `|` separates fields: neither may appear inside a value.
    return `${label}:${value.replace(/[,|#\s]/g, "_")}`;
  });
}
