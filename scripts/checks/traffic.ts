/**
 * A known load and the request counts it must produce in each backend, keyed `"<route> <status>"`: the same
 * accounting for the end-to-end tests and for `npm run smoke`.
 */
import { UNMATCHED_ROUTE } from "../../app/src/metrics/catalog";
import { routeSegment } from "../../app/src/metrics/names";
import { routes } from "../../app/src/routes";
import { runLoad, type LoadSummary } from "../../app/src/tools/load";
import { graphitePaths } from "../../pipeline/graphite";
import { sumPoints, type GraphiteApi, type PrometheusApi } from "./backends";

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

const key = (route: string, status: number | string) => `${route} ${status}`;

/** The route value a request path is reported under. */
function routeOfPath(path: string): string {
  return routes.has(path) ? path : UNMATCHED_ROUTE;
}

/** Sends the load (the five endpoints in turn, then unknown paths) and returns what each backend must count. */
export async function sendKnownLoad(apiUrl: string, options: KnownLoadOptions): Promise<KnownLoad> {
  const startedAt = Date.now() / 1000;
  options.onStart?.();
  // maxRequests ends the load; the duration is only a bound in case the app stops answering.
  const summary = await runLoad({ url: apiUrl, durationSeconds: 600, vus: options.vus, pauseSeconds: 0, maxRequests: options.requests });
  const expected: Counts = new Map();
  const add = (route: string, status: number, n: number) => expected.set(key(route, status), (expected.get(key(route, status)) ?? 0) + n);
  for (const [path, statuses] of Object.entries(summary.byPath)) {
    for (const [status, n] of Object.entries(statuses)) {
      if (status === "0") throw new Error(`${n} request(s) to ${path} failed in transport`);
      add(routeOfPath(path), Number(status), n);
    }
  }
  for (let i = 0; i < options.unknownPaths; i++) {
    const res = await fetch(`${apiUrl.replace(/\/+$/, "")}/no-such-page/${i}`);
    await res.arrayBuffer();
    add(UNMATCHED_ROUTE, res.status, 1);
  }
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  return { expected, total, summary, startedAt };
}

/**
 * Requests Prometheus counted from `fromEpoch` until now, by route and status, for one app: the dashboards' own
 * exact increase (anchored, with created-timestamp zeros), so a new series and an exporter that restarted or was
 * replaced in between (its counters start again from zero) are counted right.
 */
export async function prometheusCounts(api: PrometheusApi, metric: string, appName: string, fromEpoch: number): Promise<Counts> {
  const range = Math.max(1, Math.ceil(Date.now() / 1000 - fromEpoch));
  const samples = await api.query(`sum by (route, status) (increase(${metric}{app_name="${appName}"}[${range}s] anchored))`);
  return new Map(samples.filter((s) => s.value !== 0).map((s) => [key(s.metric.route ?? "", s.metric.status ?? ""), s.value]));
}

/**
 * Request counts Graphite holds in the points from `fromEpoch` until now, by route and status (GET only: the load
 * sends GET). Compare two readings with the same `fromEpoch` (see {@link delta}): whisper stamps a point at the
 * start of its 10 s slot, which can be before the first request of a load.
 */
export async function graphiteCounts(api: GraphiteApi, prefix: string, fromEpoch: number): Promise<Counts> {
  const routeOfSegment = new Map([...routes.keys(), UNMATCHED_ROUTE].map((route) => [routeSegment(route), route]));
  const base = graphitePaths(prefix).requestCounts;
  const counts: Counts = new Map();
  for (const series of await api.render(`${base}.*.GET.*`, String(fromEpoch))) {
    const [segment, , status] = series.target.slice(base.length + 1).split(".");
    const route = routeOfSegment.get(segment ?? "");
    if (route !== undefined && status !== undefined) counts.set(key(route, status), sumPoints([series]));
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

/** `after - before` for every key of `expected`. */
export function delta(after: Counts, before: Counts, expected: Counts): Counts {
  return new Map([...expected.keys()].map((k) => [k, (after.get(k) ?? 0) - (before.get(k) ?? 0)]));
}

/** Polls `read` until it equals `expected` or `timeoutMs` passes; returns the last reading. */
export async function settle(read: () => Promise<Counts>, expected: Counts, timeoutMs: number): Promise<Counts> {
  const deadline = Date.now() + timeoutMs;
  let last: Counts = new Map();
  while (Date.now() < deadline) {
    last = await read();
    if ([...expected].every(([k, v]) => last.get(k) === v)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  return last;
}

/** Counts as a sorted plain object, for exact comparison and printing. */
export function asObject(counts: Counts): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
}
