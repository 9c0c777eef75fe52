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
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  const fragment = url.indexOf("#");
  const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment);
  return end === -1 ? url : url.slice(0, end);
}

// Shared, never mutated: building header objects per response is measurable at tens of thousands of requests/s.
const TEXT_HEADERS: http.OutgoingHttpHeaders = { "content-type": "text/plain; charset=utf-8" };
const NOT_ALLOWED_HEADERS: http.OutgoingHttpHeaders = { ...TEXT_HEADERS, allow: "GET, HEAD" };

function send(res: http.ServerResponse, reply: Reply, headers = TEXT_HEADERS): void {
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

const isPromise = (value: Reply | Promise<Reply>): value is Promise<Reply> => value instanceof Promise;

export function createServer({ recorder, random = Math.random, log = console.error }: ServerOptions): http.Server {
  const context = { random };
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
    const record = (status: number) =>
      recorder.request({ route, method, status, durationMs: performance.now() - started });
    const fail = (err: unknown) => {
      log(`error: ${req.method} ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      send(res, { status: 500, body: "Internal Server Error" });
      record(500);
    };

    if (!handler) {
      send(res, { status: 404, body: "Not Found" });
      record(404);
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      send(res, { status: 405, body: "Method Not Allowed" }, NOT_ALLOWED_HEADERS);
      record(405);
      return;
    }

    let reply: Reply | Promise<Reply>;
    try {
      reply = handler(context);
    } catch (err) {
      fail(err);
      return;
    }
    if (!isPromise(reply)) {
      // Most endpoints answer synchronously: answer and measure now, without a promise or a listener per request.
      send(res, reply);
      record(reply.status);
      return;
    }
    // A slow endpoint: the client may go away before the answer, which is measured as CLIENT_CLOSED_STATUS.
    let answered = false;
    res.once("close", () => {
      if (!answered) record(CLIENT_CLOSED_STATUS);
    });
    reply.then(
      (done) => {
        if (res.destroyed) return;
        answered = true;
        send(res, done);
        record(done.status);
      },
      (err: unknown) => {
        if (res.destroyed) return;
        answered = true;
        fail(err);
      },
    );
  });
}
