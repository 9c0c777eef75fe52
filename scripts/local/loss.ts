/**
 * What a backend process restarted under load lost: the requests the load sent, by route and status, against what
 * the backend counted over the whole window, and the bound of what the restarted process can have held.
 */
import { UNMATCHED_ROUTE } from "../../app/src/metrics/catalog";
import { routes } from "../../app/src/routes";
import type { LoadSummary } from "../../app/src/tools/load";
import { countKey, type Counts } from "../checks/traffic";

/** Requests the load sent and had answered, keyed as the backends' readings are (`countKey`: every one a GET). */
export function sentByRouteAndStatus(summary: LoadSummary): Counts {
  const sent: Counts = new Map();
  for (const [path, statuses] of Object.entries(summary.byPath)) {
    const route = routes.has(path) ? path : UNMATCHED_ROUTE;
    for (const [status, n] of Object.entries(statuses)) {
      if (status === "0") throw new Error(`${n} request(s) to ${path} failed in transport: the app must answer every one`);
      const key = countKey(route, "GET", status);
      sent.set(key, (sent.get(key) ?? 0) + n);
    }
  }
  return sent;
}

export interface Loss {
  readonly sent: number;
  readonly counted: number;
  /** sent - counted. */
  readonly lost: number;
  /** Keys the backend counted more of than were sent (a double count), with both figures; empty when none. */
  readonly overcounted: Record<string, { sent: number; counted: number }>;
}

/** Compares what was sent with what a backend counted, in total and key by key. */
export function lossOf(sent: Counts, counted: Counts): Loss {
  const total = (counts: Counts) => [...counts.values()].reduce((a, b) => a + b, 0);
  const overcounted: Record<string, { sent: number; counted: number }> = {};
  for (const [key, n] of counted) if (n > (sent.get(key) ?? 0)) overcounted[key] = { sent: sent.get(key) ?? 0, counted: n };
  return { sent: total(sent), counted: total(counted), lost: total(sent) - total(counted), overcounted };
}

export interface LossBound {
  /** The load's mean rate: requests answered / its duration. */
  readonly requestsPerSecond: number;
  /** How long a stretch of traffic the restarted process can have held or missed. */
  readonly windowSeconds: number;
  /** Factor on the mean rate for a bursty load and a loaded machine. */
  readonly margin: number;
  /** ceil(margin x rate x window): the most requests the restart may lose. */
  readonly requests: number;
}

export function lossBound(summary: LoadSummary, windowSeconds: number, margin: number): LossBound {
  const requestsPerSecond = summary.requests / summary.elapsedSeconds;
  return { requestsPerSecond, windowSeconds, margin, requests: Math.ceil(margin * requestsPerSecond * windowSeconds) };
}

/** One line for the test output (README quotes it). */
export function describeLoss(loss: Loss, bound: LossBound): string {
  const pct = loss.sent > 0 ? ((100 * loss.lost) / loss.sent).toFixed(1) : "0";
  return (
    `sent ${loss.sent}, counted ${loss.counted}, lost ${loss.lost} (${pct}%); bound ${bound.requests} = ` +
    `${bound.margin} x ${bound.requestsPerSecond.toFixed(2)} requests/s x ${bound.windowSeconds.toFixed(1)} s`
  );
}
