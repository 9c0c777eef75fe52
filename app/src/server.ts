/** The HTTP server: routing, per-request measurement, the health endpoint, and its limits. */
import http from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from "./config";
import { OTHER_METHOD, OVER_CONNECTION_LIMIT_STATUS, UNMATCHED_ROUTE } from "./metrics/catalog";
import { normaliseMethod } from "./metrics/names";
import type { Recorder } from "./metrics/recorder";
import { routes, type Reply } from "./routes";

export const HEALTH_PATH = "/healthz";

export interface ServerOptions {
  readonly recorder: Recorder;
  readonly random?: () => number;
  readonly log?: (line: string) => void;
  /** What the server accepts from clients; {@link DEFAULT_SERVER_LIMITS} unless given. */
  readonly limits?: ServerLimits;
}

/** Status reported for a request whose client went away before the response was complete (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * How often Node looks for connections past their headers or request timeout, so a timeout takes effect up to this
 * much after it expires. Node's default, 30 s, would let a 10 s headers timeout hold a connection for up to 40 s; each
 * check walks the connections with a request under way, at most `maxConnections` of them.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

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
const REFUSED_HEADERS: http.OutgoingHttpHeaders = { ...TEXT_HEADERS, connection: "close" };

/**
 * A complete response written straight to a socket, for the refusals that have no ServerResponse: the status's reason
 * phrase as a plain-text body, and `Connection: close` because the connection is closed right after it.
 */
function rawResponse(status: number, extraHeaders = ""): Buffer {
  const reason = http.STATUS_CODES[status] ?? "Error";
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${reason.length}\r\n` +
      `${extraHeaders}connection: close\r\n\r\n${reason}`,
    "latin1",
  );
}
const RAW_RESPONSES = {
  400: rawResponse(400),
  405: rawResponse(405, "allow: GET, HEAD\r\n"),
  408: rawResponse(408),
  431: rawResponse(431),
} as const;

/**
 * The status a `clientError` is answered with, as Node itself would choose it, or undefined for an error of the socket
 * (a reset, a broken pipe) rather than of the request: nothing can be answered then. Node's `HPE_*` codes are the
 * parser's: a malformed request line or header, a method it does not know, conflicting lengths.
 */
function clientErrorStatus(code: string | undefined): 400 | 408 | 431 | undefined {
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return code?.startsWith("HPE_") ? 400 : undefined;
}

/** A request line's method: an HTTP token followed by a space (RFC 9110's tchar). */
const REQUEST_LINE_METHOD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}) /;

/**
 * The method of a request Node could not parse, from the bytes it hands over with the error (`rawPacket`: the data
 * being parsed, which starts with the request line unless several requests arrived together), or undefined. Either
 * way it is then normalised, so a made-up method is reported as OTHER and cannot create a series.
 */
function methodOfUnparsed(err: Error): string | undefined {
  const raw = (err as { rawPacket?: unknown }).rawPacket;
  if (!Buffer.isBuffer(raw)) return undefined;
  return REQUEST_LINE_METHOD.exec(raw.subarray(0, 32).toString("latin1"))?.[1];
}

/** RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without Host (Node's check, made here to count it). */
function lacksHost(req: http.IncomingMessage): boolean {
  return req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.headers.host === undefined;
}

function send(res: http.ServerResponse, reply: Reply, headers = TEXT_HEADERS): void {
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

const isPromise = (value: Reply | Promise<Reply>): value is Promise<Reply> => value instanceof Promise;

/**
 * The API's server with its limits. Besides answering requests, it counts every request it refuses before a handler
 * runs, under the route `rejected` (see REJECTED_ROUTE in the metric catalog) with the status it sent.
 */
export function createServer({
  recorder,
  random = Math.random,
  log = console.error,
  limits = DEFAULT_SERVER_LIMITS,
}: ServerOptions): http.Server {
  const context = { random };
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, status: number) => {
    res.writeHead(status, REFUSED_HEADERS);
    res.end(http.STATUS_CODES[status]);
    recorder.rejected({ method: normaliseMethod(req.method), status });
  };
  // The response of each connection's latest request, to tell a refused request from a fault in one a handler took.
  const latest = new WeakMap<Duplex, http.ServerResponse>();

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    latest.set(req.socket, res);
    if (lacksHost(req)) {
      refuse(req, res, 400);
      return;
    }
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
  };

  const server = http.createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      // Node would answer a request without Host 400 itself, before the handler, uncounted: the handler does it.
      requireHostHeader: false,
    },
    handle,
  );
  server.maxConnections = limits.maxConnections;

  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = clientErrorStatus(err.code);
    const res = latest.get(socket);
    // The connection's latest request reached a handler and is not done (the error is in its body, or in a request
    // sent behind it before its answer): that request is its handler's to count, answered or as 499. Nothing more
    // can be sent on the connection; a second response would be read as the answer to that request.
    const handlerBusy = res !== undefined && !(res.req.complete && res.writableEnded);
    // A connection that never sent a byte made no request: closed without an answer, like nginx does (preconnecting
    // browsers, proxies' spare connections).
    const silent = status === 408 && socket instanceof net.Socket && socket.bytesRead === 0;
    if (status === undefined || handlerBusy || silent || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.write(RAW_RESPONSES[status]);
    socket.destroy();
    recorder.rejected({ method: normaliseMethod(methodOfUnparsed(err)), status });
  });

  // Expectations other than 100-continue: Node would answer 417 itself, uncounted.
  server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) => {
    latest.set(req.socket, res);
    refuse(req, res, lacksHost(req) ? 400 : 417);
  });

  // CONNECT (a proxy tunnel): without a listener Node closes the connection without a word. Not a method this API has.
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    if (socket.writable) {
      socket.write(RAW_RESPONSES[405]);
      recorder.rejected({ method: normaliseMethod(req.method), status: 405 });
    }
    socket.destroy();
  });

  // Over maxConnections Node closes the connection as soon as it is accepted, before reading anything: the method is
  // unknown and no status is sent (see OVER_CONNECTION_LIMIT_STATUS).
  server.on("drop", () => recorder.rejected({ method: OTHER_METHOD, status: OVER_CONNECTION_LIMIT_STATUS }));
  return server;
}
