/**
 * The server's limits, and the requests it refuses before any handler runs: each refusal answered as HTTP says and
 * counted once, under the route `rejected` with the status sent, on the exact StatsD lines the app sends.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { afterEach, describe, it } from "node:test";
import { DEFAULT_SERVER_LIMITS } from "../src/config";
import { RANDOM_SLEEP_MAX_MS } from "../src/routes";
import { TIMEOUT_CHECK_INTERVAL_MS } from "../src/server";
import {
  atLeastNominal,
  LOADED_MACHINE_LATENESS_MS,
  startApp,
  udpCapture,
  waitFor,
  type RunningApp,
  type UdpCapture,
} from "./helpers";

/** The info counter the app sends at start (graphite style): the first line of every capture. */
const INFO = "sample_api.app_info.sample-api.1_2_3:1|c";

/** A raw TCP client, for what an HTTP client library would not send. */
interface RawClient {
  readonly socket: net.Socket;
  /** performance.now() just before connecting: the server cannot have seen the connection earlier. */
  readonly startedAt: number;
  /** Everything received so far, as text. */
  received(): string;
  /** The codes of socket errors seen (a reset, a write after the server closed). */
  readonly errors: string[];
  /** Resolves with performance.now() when the connection has closed. */
  readonly closed: Promise<number>;
}

/** Every raw client a test opened, closed after it whatever its outcome. */
const openClients = new Set<net.Socket>();

async function rawClient(port: number): Promise<RawClient> {
  const startedAt = performance.now();
  const socket = net.connect(port, "127.0.0.1");
  openClients.add(socket);
  socket.on("close", () => openClients.delete(socket));
  let received = "";
  const errors: string[] = [];
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  socket.on("error", (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, startedAt, received: () => received, errors, closed };
}

/** Writes `line(n)` every `everyMs` until the connection closes, whatever ends the test. */
function trickle(client: RawClient, line: (n: number) => string, everyMs: number): { readonly sent: () => number } {
  let n = 0;
  const timer = setInterval(() => {
    if (!client.socket.destroyed) client.socket.write(line(n++));
  }, everyMs);
  client.socket.on("close", () => clearInterval(timer));
  return { sent: () => n };
}

/** Sends `request` on a new connection and resolves with all it received once the server closed the connection. */
async function exchange(port: number, request: string): Promise<string> {
  const client = await rawClient(port);
  client.socket.write(request);
  await withinLoadedMachine(client.closed, "the server to close the connection");
  return client.received();
}

/** `promise`, or a failure naming `what` if it takes longer than a loaded machine explains. */
async function withinLoadedMachine<T>(promise: Promise<T>, what: string, nominalMs = 0): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited too long for ${what}`)), nominalMs + LOADED_MACHINE_LATENESS_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A chunked body's content: each chunk is its size in hex, CRLF, the data, CRLF; a chunk of size 0 ends it. */
function dechunk(raw: string): string {
  let body = "";
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    assert.ok(lineEnd >= 0, `unterminated chunked body: ${JSON.stringify(raw)}`);
    const size = parseInt(raw.slice(at, lineEnd), 16);
    if (size === 0) return body;
    body += raw.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** A response's status line, headers (names in lower case) and body, from raw text. */
function parseResponse(text: string) {
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end > 0, `not an HTTP response: ${JSON.stringify(text)}`);
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
  );
  const raw = text.slice(end + 4);
  return { statusLine, headers, body: headers["transfer-encoding"] === "chunked" ? dechunk(raw) : raw };
}

/** The exact bytes of a refusal the server writes straight to the socket (no Date: there is no ServerResponse). */
function rawRefusal(status: number, reason: string, extraHeaders = ""): string {
  return (
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${reason.length}\r\n` +
    `${extraHeaders}connection: close\r\n\r\n${reason}`
  );
}

/** A timer line's values vary run to run: `<ms>` stands for them. */
const withoutLatency = (line: string) => line.replace(/:[0-9.]+\|ms$/, ":<ms>|ms");

describe("server limits: defaults", () => {
  it("request 30 s, headers 10 s, keep-alive 65 s, 16,384 header bytes, 1,000 connections; timeouts checked every second", () => {
    assert.deepEqual(DEFAULT_SERVER_LIMITS, {
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 65_000,
      maxHeaderBytes: 16_384,
      maxConnections: 1_000,
    });
    assert.equal(TIMEOUT_CHECK_INTERVAL_MS, 1000);
  });

  it("the headers timeout is within the request timeout (Node refuses it otherwise), which exceeds the slowest endpoint", () => {
    assert.ok(DEFAULT_SERVER_LIMITS.headersTimeoutMs <= DEFAULT_SERVER_LIMITS.requestTimeoutMs);
    // Node's request timeout does not cover the handler (tested below); a proxy timing the whole exchange would.
    assert.ok(RANDOM_SLEEP_MAX_MS < DEFAULT_SERVER_LIMITS.requestTimeoutMs);
  });
});

describe("server limits and refused requests", () => {
  let statsd: UdpCapture;
  let app: RunningApp;
  afterEach(async () => {
    for (const socket of openClients) socket.destroy();
    await app.stop();
    await statsd.close();
  });

  /** Starts the app with the given environment; its window never ends by itself, so only `counted()` sends. */
  async function start(env: Record<string, string> = {}, style = "graphite", random?: () => number) {
    statsd = await udpCapture();
    app = await startApp(
      { METRICS_STYLE: style, STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsd.port), ...env },
      { random, recorder: { aggregationWindowMs: 3_600_000 } },
    );
    assert.ok(await waitFor(() => statsd.lines.length === 1), "the info counter at start");
  }

  /**
   * Every line the app has counted so far, after the info counter: sends the window, then the info counter again as a
   * marker, so that the lines before the marker are all the window held.
   */
  async function counted(): Promise<string[]> {
    app.recorder.flush();
    app.recorder.sendInfo();
    assert.ok(await waitFor(() => statsd.lines.filter((l) => l === INFO).length === 2), statsd.lines.join("\n"));
    assert.equal(statsd.lines[0], INFO);
    assert.equal(statsd.lines.at(-1), INFO);
    return statsd.lines.slice(1, -1).map(withoutLatency);
  }

  /** The connections the server holds now. */
  const connections = () =>
    new Promise<number>((resolve, reject) => {
      app.server.getConnections((err, count) => (err ? reject(err) : resolve(count)));
    });

  it("the server runs with the limits the environment sets", async () => {
    await start({
      REQUEST_TIMEOUT_SECONDS: "20",
      HEADERS_TIMEOUT_SECONDS: "5",
      KEEP_ALIVE_TIMEOUT_SECONDS: "620",
      MAX_HEADER_BYTES: "8192",
      MAX_CONNECTIONS: "50",
    });
    const { requestTimeout, headersTimeout, keepAliveTimeout, maxConnections } = app.server;
    assert.deepEqual(
      { requestTimeout, headersTimeout, keepAliveTimeout, maxConnections },
      { requestTimeout: 20_000, headersTimeout: 5_000, keepAliveTimeout: 620_000, maxConnections: 50 },
    );
    // Node's server has no typed maxHeaderSize property: the limit shows in what it refuses. 9,000 bytes of headers
    // are under the default 16,384 and over 8,192.
    const request = `GET / HTTP/1.1\r\nHost: a\r\nCookie: ${"c".repeat(9_000)}\r\n\r\n`;
    assert.equal(await exchange(app.port, request), rawRefusal(431, "Request Header Fields Too Large"));
  });

  it("headers sent a line every 100 ms, slower than HEADERS_TIMEOUT_SECONDS: 408 and closed, no sooner than the timeout, counted once as rejected OTHER 408", async () => {
    await start({ HEADERS_TIMEOUT_SECONDS: "1" });
    const client = await rawClient(app.port);
    client.socket.write("GET / HTTP/1.1\r\nHost: a\r\n");
    // Each line arrives well within any idle timeout: only a deadline on the whole header section stops this client.
    const lines = trickle(client, (n) => `X-Slow-${n}: 1\r\n`, 100);
    const closedAt = await withinLoadedMachine(client.closed, "the 408", 1000 + TIMEOUT_CHECK_INTERVAL_MS);
    const tookMs = closedAt - client.startedAt;
    assert.equal(client.received(), rawRefusal(408, "Request Timeout"));
    assert.ok(atLeastNominal(tookMs, 1000), `closed after ${tookMs} ms`);
    assert.ok(tookMs < 1000 + TIMEOUT_CHECK_INTERVAL_MS + LOADED_MACHINE_LATENESS_MS, `closed after ${tookMs} ms`);
    assert.ok(lines.sent() >= 5, `the client sent only ${lines.sent()} lines`);
    assert.deepEqual(await counted(), ["sample_api.http_requests.rejected.OTHER.408:1|c"]);
  });

  it("a connection that sends nothing: closed at the headers timeout without a response, and not counted (no request)", async () => {
    await start({ HEADERS_TIMEOUT_SECONDS: "1" });
    const client = await rawClient(app.port);
    const closedAt = await withinLoadedMachine(client.closed, "the close", 1000 + TIMEOUT_CHECK_INTERVAL_MS);
    assert.equal(client.received(), "");
    assert.ok(atLeastNominal(closedAt - client.startedAt, 1000), `closed after ${closedAt - client.startedAt} ms`);
    assert.deepEqual(await counted(), []);
  });

  it("headers over MAX_HEADER_BYTES (17,000 bytes over 16,384): 431 and closed, counted once as rejected GET 431", async () => {
    await start();
    const request = `GET / HTTP/1.1\r\nHost: a\r\nCookie: ${"c".repeat(17_000)}\r\n\r\n`;
    assert.equal(await exchange(app.port, request), rawRefusal(431, "Request Header Fields Too Large"));
    assert.deepEqual(await counted(), ["sample_api.http_requests.rejected.GET.431:1|c"]);
  });

  it("headers under the limit (15,000 bytes): served, 200, counted under / GET 200", async () => {
    await start();
    const request = `GET / HTTP/1.1\r\nHost: a\r\nCookie: ${"c".repeat(15_000)}\r\nConnection: close\r\n\r\n`;
    const response = parseResponse(await exchange(app.port, request));
    assert.deepEqual([response.statusLine, response.body], ["HTTP/1.1 200 OK", "Hello, World!"]);
    assert.deepEqual(await counted(), [
      "sample_api.http_request_duration_ms.root.GET.200:<ms>|ms",
      "sample_api.http_requests.root.GET.200:1|c",
    ]);
  });

  it("a malformed request line (a space in the target): 400 and closed, counted once as rejected GET 400; a normal request after it is unaffected", async () => {
    await start();
    assert.equal(await exchange(app.port, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), rawRefusal(400, "Bad Request"));
    const res = await fetch(`${app.url}/`);
    assert.deepEqual([res.status, await res.text()], [200, "Hello, World!"]);
    assert.deepEqual(await counted(), [
      "sample_api.http_requests.rejected.GET.400:1|c",
      "sample_api.http_request_duration_ms.root.GET.200:<ms>|ms",
      "sample_api.http_requests.root.GET.200:1|c",
    ]);
  });

  it("methods Node's parser does not know (BREW, COFFEE, X-MADE-UP): 400 each, counted as rejected OTHER 400, one series for all", async () => {
    await start();
    for (const method of ["BREW", "COFFEE", "X-MADE-UP"]) {
      assert.equal(await exchange(app.port, `${method} / HTTP/1.1\r\nHost: a\r\n\r\n`), rawRefusal(400, "Bad Request"));
    }
    assert.deepEqual(await counted(), ["sample_api.http_requests.rejected.OTHER.400:3|c"]);
  });

  it("a method the parser knows but the API does not serve (PROPFIND /): 405 from the handler, counted once under / as OTHER 405, not as rejected", async () => {
    await start();
    const request = "PROPFIND / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    const response = parseResponse(await exchange(app.port, request));
    assert.deepEqual([response.statusLine, response.headers.allow], ["HTTP/1.1 405 Method Not Allowed", "GET, HEAD"]);
    assert.deepEqual(await counted(), [
      "sample_api.http_request_duration_ms.root.OTHER.405:<ms>|ms",
      "sample_api.http_requests.root.OTHER.405:1|c",
    ]);
  });

  it("an HTTP/1.1 request without Host: 400 with Connection: close, counted once as rejected GET 400", async () => {
    await start();
    const response = parseResponse(await exchange(app.port, "GET / HTTP/1.1\r\n\r\n"));
    assert.deepEqual([response.statusLine, response.headers.connection, response.body], ["HTTP/1.1 400 Bad Request", "close", "Bad Request"]);
    assert.deepEqual(await counted(), ["sample_api.http_requests.rejected.GET.400:1|c"]);
  });

  it("an expectation other than 100-continue: 417 with Connection: close, counted once as rejected GET 417", async () => {
    await start();
    const response = parseResponse(await exchange(app.port, "GET / HTTP/1.1\r\nHost: a\r\nExpect: coffee\r\n\r\n"));
    assert.deepEqual([response.statusLine, response.headers.connection], ["HTTP/1.1 417 Expectation Failed", "close"]);
    assert.deepEqual(await counted(), ["sample_api.http_requests.rejected.GET.417:1|c"]);
  });

  it("CONNECT (a proxy tunnel): 405 with Allow GET, HEAD, counted once as rejected OTHER 405", async () => {
    await start();
    const received = await exchange(app.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert.equal(received, rawRefusal(405, "Method Not Allowed", "allow: GET, HEAD\r\n"));
    assert.deepEqual(await counted(), ["sample_api.http_requests.rejected.OTHER.405:1|c"]);
  });

  it("a client that resets the connection halfway through its headers: nothing answered, nothing counted", async () => {
    await start();
    const client = await rawClient(app.port);
    client.socket.write("GET / HTTP/1.1\r\nHost: a\r\nX-Half");
    // Wait until the server has read the bytes, so that the reset reaches a request under way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.socket.resetAndDestroy();
    await client.closed;
    assert.ok(await waitFor(async () => (await connections()) === 0), "the server still holds the connection");
    assert.equal(client.received(), "");
    assert.deepEqual(await counted(), []);
  });

  it("the body of a request its handler answered turns out malformed: no second response, counted once under its route", async () => {
    await start();
    // The handler answers 405 on the headers alone; the chunk size that follows is not hexadecimal.
    const received = await exchange(app.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    assert.equal(received.match(/HTTP\/1\.1 /g)?.length, 1, received);
    assert.equal(parseResponse(received).statusLine, "HTTP/1.1 405 Method Not Allowed");
    assert.deepEqual(await counted(), [
      "sample_api.http_request_duration_ms.root.POST.405:<ms>|ms",
      "sample_api.http_requests.root.POST.405:1|c",
    ]);
  });

  it("a body trickling in past REQUEST_TIMEOUT_SECONDS: answered by its handler, closed at the timeout, counted once under its route", async () => {
    await start({ REQUEST_TIMEOUT_SECONDS: "1", HEADERS_TIMEOUT_SECONDS: "1" });
    const client = await rawClient(app.port);
    client.socket.write("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab");
    trickle(client, () => "c", 100);
    const closedAt = await withinLoadedMachine(client.closed, "the close", 1000 + TIMEOUT_CHECK_INTERVAL_MS);
    const response = parseResponse(client.received());
    assert.deepEqual([response.statusLine, response.body], ["HTTP/1.1 200 OK", "Hello, World!"]);
    assert.ok(atLeastNominal(closedAt - client.startedAt, 1000), `closed after ${closedAt - client.startedAt} ms`);
    assert.deepEqual(await counted(), [
      "sample_api.http_request_duration_ms.root.GET.200:<ms>|ms",
      "sample_api.http_requests.root.GET.200:1|c",
    ]);
  });

  it("the request timeout ends when the request has arrived: /random_sleep (4.5 s) answers 200 under REQUEST_TIMEOUT_SECONDS=1", async () => {
    // 0.9 x 5 s: longer than the timeout plus the interval at which Node checks it, so a timeout that covered the
    // handler would have cut the request.
    await start({ REQUEST_TIMEOUT_SECONDS: "1", HEADERS_TIMEOUT_SECONDS: "1" }, "graphite", () => 0.9);
    assert.ok(0.9 * RANDOM_SLEEP_MAX_MS > 1000 + TIMEOUT_CHECK_INTERVAL_MS);
    const res = await fetch(`${app.url}/random_sleep`);
    assert.deepEqual([res.status, await res.text()], [200, "random sleep 4500 ms"]);
    assert.deepEqual(await counted(), [
      "sample_api.http_request_duration_ms.random_sleep.GET.200:<ms>|ms",
      "sample_api.http_requests.random_sleep.GET.200:1|c",
    ]);
  });

  it("keep-alive: the response advertises KEEP_ALIVE_TIMEOUT_SECONDS; an idle connection is closed silently, no sooner, not counted", async () => {
    await start({ KEEP_ALIVE_TIMEOUT_SECONDS: "1" });
    const client = await rawClient(app.port);
    client.socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.ok(await waitFor(() => client.received().endsWith("\r\n0\r\n\r\n")), client.received());
    const answeredAt = performance.now();
    const answer = client.received();
    const response = parseResponse(answer);
    assert.deepEqual([response.statusLine, response.headers["keep-alive"]], ["HTTP/1.1 200 OK", "timeout=1"]);
    // Node closes the idle socket 1 s after the advertised timeout (its keepAliveTimeoutBuffer), so that a client
    // honouring the header closes first: only the lower bound is the app's.
    const closedAt = await withinLoadedMachine(client.closed, "the close", 2000);
    assert.ok(atLeastNominal(closedAt - answeredAt, 1000), `closed ${closedAt - answeredAt} ms after the response`);
    assert.equal(client.received(), answer, "something was sent on the idle connection");
    assert.deepEqual(await counted(), [
      "sample_api.http_request_duration_ms.root.GET.200:<ms>|ms",
      "sample_api.http_requests.root.GET.200:1|c",
    ]);
  });

  it("a connection over MAX_CONNECTIONS (the third of 2): closed without a byte, counted as rejected OTHER 503; served again once one closes", async () => {
    await start({ MAX_CONNECTIONS: "2" });
    const held = [await rawClient(app.port), await rawClient(app.port)];
    assert.ok(await waitFor(async () => (await connections()) === 2), "the server did not see both connections");
    const third = await rawClient(app.port);
    third.socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await withinLoadedMachine(third.closed, "the third connection to close");
    assert.equal(third.received(), "");

    held[0]!.socket.destroy();
    assert.ok(await waitFor(async () => (await connections()) === 1), "the server still holds the closed connection");
    const res = await fetch(`${app.url}/`, { headers: { connection: "close" } });
    assert.deepEqual([res.status, await res.text()], [200, "Hello, World!"]);
    held[1]!.socket.destroy();
    assert.deepEqual(await counted(), [
      "sample_api.http_requests.rejected.OTHER.503:1|c",
      "sample_api.http_request_duration_ms.root.GET.200:<ms>|ms",
      "sample_api.http_requests.root.GET.200:1|c",
    ]);
  });

  it("dogstatsd style: a refused request carries route:rejected, its method and status as tags", async () => {
    await start({}, "dogstatsd");
    const request = `GET / HTTP/1.1\r\nHost: a\r\nCookie: ${"c".repeat(17_000)}\r\n\r\n`;
    assert.equal(await exchange(app.port, request), rawRefusal(431, "Request Header Fields Too Large"));
    app.recorder.flush();
    assert.ok(await waitFor(() => statsd.lines.length === 2), statsd.lines.join("\n"));
    assert.deepEqual(statsd.lines.slice(1), [
      "sample_api.http_requests:1|c|#app_name:sample-api,route:rejected,method:GET,status:431",
    ]);
  });
});
