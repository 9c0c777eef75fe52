/** The HTTP server: routing, per-request measurement, and the health endpoint. */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { UNMATCHED_ROUTE } from "./metrics/catalog";
import { normaliseMethod } from "./metrics/names";
import type { Recorder } from "./metrics/recorder";
import { routes, type Reply } from "./routes";

export const HEALTH_PATH = "/healthz";

export interface ServerOptions {
  readonly recorder: Recorder;
  readonly random?: () => number;
  readonly log?: (line: string) => void;
}

/** Status reported for a request whose client went away before the response was complete (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const end = raw.search(/[?#]/);
  return end === -1 ? raw : raw.slice(0, end);
}

function send(res: http.ServerResponse, reply: Reply, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(reply.body);
}

export function createServer({ recorder, random = Math.random, log = console.error }: ServerOptions): http.Server {
  return http.createServer((req, res) => {
    const path = pathOf(req.url);
    if (path === HEALTH_PATH) {
      // Probes run every few seconds: they are not traffic and never touch StatsD.
      send(res, { status: 200, body: "ok" });
      return;
    }

    const started = performance.now();
    const handler = routes.get(path);
    const route = handler ? path : UNMATCHED_ROUTE;
    const method = normaliseMethod(req.method);
    res.once("close", () => {
      recorder.request({
        route,
        method,
        status: res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS,
        durationMs: performance.now() - started,
      });
    });

    if (!handler) {
      send(res, { status: 404, body: "Not Found" });
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      send(res, { status: 405, body: "Method Not Allowed" }, { allow: "GET, HEAD" });
      return;
    }
    Promise.resolve()
      .then(() => handler({ random }))
      .then(
        (reply) => send(res, reply),
        (err: unknown) => {
          log(`error: ${req.method} ${path}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
          if (!res.headersSent) send(res, { status: 500, body: "Internal Server Error" });
          else res.destroy();
        },
      );
  });
}
