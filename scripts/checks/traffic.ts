/**
 * A known load and the request counts it must produce in each backend, keyed `"<route> <method> <status>"`: the same
 * accounting for the end-to-end tests and for `npm run smoke`. A backend is proven when every request-count series
 * of the app moved by exactly what was sent and no other moved (see {@link countMismatches}).
 */
import { UNMATCHED_ROUTE } from "../../app/src/metrics/catalog";
import { routeSegment } from "../../app/src/metrics/names";
import { routes } from "../../app/src/routes";
import { runLoad, type LoadSummary } from "../../app/src/tools/load";
import { waitFor } from "../../app/src/tools/wait";
import { graphitePaths } from "../../pipeline/graphite";
import { sumPoints, type GraphiteApi, type PrometheusApi } from "./backends";

/** Request counts by series, keyed `"<route> <method> <status>"` (see {@link countKey}). */
export type Counts = Map<string, number>;

export interface KnownLoad {
  readonly expected: Counts;
  readonly total: number;
  readonly summary: LoadSummary;
  /** Epoch seconds when the first request was sent. */
  readonly startedAt: number;
}

export interface KnownLoadOptions {
  readonly requests: number;
  readonly vus: number;
  /** Requests to paths the app does not know, each counted under the `unmatched` route. */
  readonly unknownPaths: number;
  readonly onStart?: () => void;
}

/** The key of one request-count series: `"/cpu_task GET 200"`. */
export function countKey(route: string, method: string, status: number | string): string {
  return `${route} ${method} ${status}`;
}

function addTo(counts: Counts, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

/** The route value a request path is reported under. */
function routeOfPath(path: string): string {
  return routes.has(path) ? path : UNMATCHED_ROUTE;
}

/**
 * What the app must have counted for the requests of `summaries` it answered, by series. Every request of the load
 * tool is a GET; one that got no answer (status 0: refused, reset) was never served, and is not counted.
 */
export function servedCounts(summaries: readonly LoadSummary[]): Counts {
  const counts: Counts = new Map();
  for (const summary of summaries) {
    for (const [path, statuses] of Object.entries(summary.byPath)) {
      for (const [status, n] of Object.entries(statuses)) if (status !== "0") addTo(counts, countKey(routeOfPath(path), "GET", status), n);
    }
  }
  return counts;
}

/** Sends the load (the five endpoints in turn, then unknown paths) and returns what each backend must count. */
export async function sendKnownLoad(apiUrl: string, options: KnownLoadOptions): Promise<KnownLoad> {
  const startedAt = Date.now() / 1000;
  options.onStart?.();
  // maxRequests ends the load; the duration is only a bound in case the app stops answering.
  const summary = await runLoad({ url: apiUrl, durationSeconds: 600, vus: options.vus, pauseSeconds: 0, maxRequests: options.requests });
  for (const [path, statuses] of Object.entries(summary.byPath)) {
    if (statuses[0]) throw new Error(`${statuses[0]} request(s) to ${path} failed in transport`);
  }
  const expected = servedCounts([summary]);
  for (let i = 0; i < options.unknownPaths; i++) {
    const res = await fetch(`${apiUrl.replace(/\/+$/, "")}/no-such-page/${i}`);
    await res.arrayBuffer();
    addTo(expected, countKey(UNMATCHED_ROUTE, "GET", res.status), 1);
  }
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  return { expected, total, summary, startedAt };
}

/**
 * The range from `fromEpoch` until now, to the millisecond, and the evaluation time it ends at. Exact, not rounded up
 * to whole seconds: a range reaching even a fraction of a second before `fromEpoch` takes its anchor from the scrape
 * before the last one there, and so counts what a load that ended just before `fromEpoch` sent last.
 */
export function rangeSince(fromEpoch: number, nowMs = Date.now()): { range: string; at: number } {
  const fromMs = Math.round(fromEpoch * 1000);
  return { range: `${Math.max(1, nowMs - fromMs)}ms`, at: Math.max(nowMs, fromMs + 1) / 1000 };
}

/**
 * Requests Prometheus counted from `fromEpoch` until now in every series of the request counter of one app (every
 * route, method and status): the dashboards' own exact increase (anchored, with created-timestamp zeros), so a new
 * series and an exporter that restarted or was replaced in between (its counters start again from zero) are counted
 * right. The reading is already a change since `fromEpoch`: compare it with an empty "before".
 */
export async function prometheusCounts(api: Pick<PrometheusApi, "query">, metric: string, appName: string, fromEpoch: number): Promise<Counts> {
  const { range, at } = rangeSince(fromEpoch);
  const samples = await api.query(`sum by (route, method, status) (increase(${metric}{app_name="${appName}"}[${range}] anchored))`, at);
  const counts: Counts = new Map();
  for (const s of samples) addTo(counts, countKey(s.metric.route ?? "", s.metric.method ?? "", s.metric.status ?? ""), s.value);
  return counts;
}

/**
 * Request counts Graphite holds in the points from `fromEpoch` until now, in every series of `prefix` (every route,
 * method and status). Compare two readings with the same `fromEpoch` (see {@link countMismatches}): whisper stamps a
 * point at the start of its 10 s slot, which can be before the first request of a load. A route segment the route
 * table does not know is kept as it is, so that its counts are seen too.
 */
export async function graphiteCounts(api: Pick<GraphiteApi, "render">, prefix: string, fromEpoch: number): Promise<Counts> {
  const routeOfSegment = new Map([...routes.keys(), UNMATCHED_ROUTE].map((route) => [routeSegment(route), route]));
  const base = graphitePaths(prefix).requestCounts;
  const counts: Counts = new Map();
  for (const series of await api.render(`${base}.*.*.*`, String(fromEpoch))) {
    const [segment = "", method = "", status = ""] = series.target.slice(base.length + 1).split(".");
    addTo(counts, countKey(routeOfSegment.get(segment) ?? segment, method, status), sumPoints([series]));
  }
  return counts;
}

/** All requests Graphite holds for `prefix` in the points from `fromEpoch` until now. */
export async function graphiteRequestTotal(api: GraphiteApi, prefix: string, fromEpoch: number): Promise<number> {
  return sumPoints(await api.render(`sumSeries(${graphitePaths(prefix).requestCounts}.*.*.*)`, String(fromEpoch)));
}

/** Requests Graphite has counted for `prefix` in points stamped at or after `sinceEpoch`, over the last 5 minutes. */
export async function graphiteRequestsSince(api: GraphiteApi, prefix: string, sinceEpoch = 0): Promise<number> {
  return sumPoints(await api.render(`sumSeries(${graphitePaths(prefix).requestCounts}.*.*.*)`, "-5min"), sinceEpoch);
}

/** How much each series moved from `before` to `after`: only the series that moved, a series missing counting as 0. */
export function countChanges(before: Counts, after: Counts): Counts {
  const changes: Counts = new Map();
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const moved = (after.get(k) ?? 0) - (before.get(k) ?? 0);
    if (moved !== 0) changes.set(k, moved);
  }
  return changes;
}

/**
 * Every way the change from `before` to `after` (full snapshots of all the app's request-count series) differs from
 * `expected`, one line per series, sorted by key; empty when every expected series moved by exactly what was sent
 * and no other series moved.
 */
export function countMismatches(expected: Counts, before: Counts, after: Counts): string[] {
  const moved = countChanges(before, after);
  const problems: string[] = [];
  for (const k of [...new Set([...expected.keys(), ...moved.keys()])].sort()) {
    const sent = expected.get(k) ?? 0;
    const counted = moved.get(k) ?? 0;
    if (counted === sent) continue;
    if (sent === 0) problems.push(`${k}: counted ${counted}, none sent`);
    else if (counted === 0) problems.push(`${k}: sent ${sent}, not counted`);
    else problems.push(`${k}: sent ${sent}, counted ${counted}`);
  }
  return problems;
}

/**
 * Polls `read` until the change from `before` is exactly `expected` (no {@link countMismatches}) or `timeoutMs`
 * passes; returns the last reading.
 */
export async function settle(read: () => Promise<Counts>, expected: Counts, before: Counts, timeoutMs: number): Promise<Counts> {
  let last: Counts = new Map();
  await waitFor(
    async () => {
      last = await read();
      return countMismatches(expected, before, last).length === 0;
    },
    timeoutMs,
    500,
  );
  return last;
}

/** Counts as a sorted plain object, for exact comparison and printing. */
export function asObject(counts: Counts): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
}
