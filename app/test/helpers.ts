/** Test helpers: a real UDP listener that captures StatsD lines, and a real server on an ephemeral port. */
import dgram from "node:dgram";
import type http from "node:http";
import net, { type AddressInfo } from "node:net";
import { loadConfig, type AppConfig } from "../src/config";
import { createRecorder, type Recorder, type RecorderOptions } from "../src/metrics/recorder";
import { createServer } from "../src/server";

export interface UdpCapture {
  readonly port: number;
  readonly lines: string[];
  /** The size of each datagram received, in bytes. */
  readonly datagramBytes: number[];
  close(): Promise<void>;
}

/** A StatsD server stand-in that only records what arrives on 127.0.0.1, one entry per line. */
export async function udpCapture(): Promise<UdpCapture> {
  const socket = dgram.createSocket("udp4");
  const lines: string[] = [];
  const datagramBytes: number[] = [];
  socket.on("message", (msg) => {
    datagramBytes.push(msg.length);
    lines.push(...msg.toString("utf8").split("\n").filter((l) => l !== ""));
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    lines,
    datagramBytes,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export { waitFor } from "../src/tools/wait";

/**
 * How early a timer may fire, measured by a monotonic clock (performance.now(), process.hrtime()). Node arms a timer
 * at the event loop's clock, which counts whole milliseconds (truncated), and fires it once that clock has advanced by
 * the delay: a 2,000 ms timer can fire up to 1 ms before 2,000 ms have passed (seen: 1999.945 ms).
 */
export const TIMER_GRANULARITY_MS = 1;

/**
 * How much later than nominal a timer, or a request that waits on one, may finish on a loaded 2-core machine (other
 * builds and tests running): generous, since an upper bound only has to tell "waited about the delay" from "hung".
 */
export const LOADED_MACHINE_LATENESS_MS = 8000;

/** Whether `elapsedMs` (by a monotonic clock) covers a wait of `nominalMs`, allowing {@link TIMER_GRANULARITY_MS}. */
export function atLeastNominal(elapsedMs: number, nominalMs: number): boolean {
  return elapsedMs >= nominalMs - TIMER_GRANULARITY_MS;
}

/**
 * Whether `elapsedMs` is what a wait of `nominalMs` takes: at least nominal (see {@link atLeastNominal}) and less
 * than {@link LOADED_MACHINE_LATENESS_MS} late.
 */
export function waitedNominal(elapsedMs: number, nominalMs: number): boolean {
  return atLeastNominal(elapsedMs, nominalMs) && elapsedMs < nominalMs + LOADED_MACHINE_LATENESS_MS;
}

/** A TCP port free on 127.0.0.1 now, for a child process that must be told its port (the app refuses PORT=0). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  readonly url: string;
  /** The server's port on 127.0.0.1, for raw TCP clients. */
  readonly port: number;
  readonly server: http.Server;
  readonly recorder: Recorder;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** Starts the real server and recorder in this process with the given environment. */
export async function startApp(
  env: Record<string, string>,
  options: { random?: () => number; recorder?: RecorderOptions } = {},
): Promise<RunningApp> {
  const config: AppConfig = loadConfig({ INFO_INTERVAL_SECONDS: "3600", ...env }, "1.2.3");
  const logs: string[] = [];
  const recorder = createRecorder(config, (line) => logs.push(line), options.recorder);
  const server = createServer({
    recorder,
    random: options.random,
    limits: config.limits,
    log: (line) => logs.push(line),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    recorder,
    logs,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await recorder.close(1000);
    },
  };
}

export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}
