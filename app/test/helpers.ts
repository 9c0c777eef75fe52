/** Test helpers: a real UDP listener that captures StatsD lines, and a real server on an ephemeral port. */
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
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

export interface RunningApp {
  readonly url: string;
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
  const server = createServer({ recorder, random: options.random, log: (line) => logs.push(line) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
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
