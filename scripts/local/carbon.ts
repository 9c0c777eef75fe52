/**
 * carbon-cache alone on 127.0.0.1 (Debian's graphite-carbon 1.1.7, whose cache, flow control and writer are the image's
 * 1.1.10's but for two logging and tagging options), fed the program's carbon.conf and storage files, with what the
 * cache-bound test and `npm run bench:carbon-cache` read from it: its memory, the points it holds in its cache,
 * the points it dropped, and the points its whisper files hold.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../../app/src/tools/wait";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { carbonConf, storageAggregationConf, storageSchemasConf, type CarbonConfArgs } from "../../pipeline/graphite";
import { freeTcpPorts, type ProcessGroup, type RunningProcess } from "./processes";
import { binaries } from "./stacks";

/** Debian's interpreter, which has carbon's modules (pickle for the cache query). */
const DEBIAN_PYTHON = "/usr/bin/python3";

/** What carbon 1.1.x logs for every point it does not store because the cache holds MAX_CACHE_SIZE points. */
export const CACHE_FULL_LINE = "MetricCache is full";

export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  readonly rssBytes: number;
  /** The highest resident set size so far (VmHWM). */
  readonly peakBytes: number;
}

/** A process's memory from /proc/<pid>/status. */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib("VmRSS"), peakBytes: kib("VmHWM") };
}

/** The settings the program generates, with only what a test or benchmark changes on purpose. */
export type CarbonCacheOptions = Pick<CarbonConfArgs, "maxCacheSize" | "maxUpdatesPerSecond"> & {
  /** Applied to the generated carbon.conf text (a benchmark's comparison of one other setting). */
  readonly edit?: (conf: string) => string;
  /** The storage schemas' retentions (config `graphiteRetentions`); default the program's. */
  readonly retentions?: string;
  /** storage-schemas.conf's text (e.g. with a team's sections); default the program's for `retentions`. */
  readonly storageSchemas?: string;
  /** storage-aggregation.conf's text; default the program's. An empty file leaves every series to carbon's default. */
  readonly storageAggregation?: string;
  /** Run on the folder of an earlier, stopped carbon-cache (its whisper files), as a replaced container does. */
  readonly dir?: string;
};

export interface CarbonCache {
  readonly proc: RunningProcess;
  readonly linePort: number;
  /** Its temporary folder (configuration, whisper files, logs): remove it when done, whisper files take room. */
  readonly dir: string;
  readonly whisperDir: string;
  /** The carbon.conf it runs. */
  readonly conf: string;
  /** Where carbon reports on itself: `carbon.agents.<host>-a` (CARBON_METRIC_INTERVAL, every 10 s). */
  readonly agent: string;
  /** Lines carbon logged for points dropped on a full cache ({@link CACHE_FULL_LINE}): one per point. */
  cacheFullLines(): number;
  memory(): ProcessMemory;
  /** The points of `metric` in carbon's cache now (carbonlink's cache query, as graphite-web asks it). */
  cached(metric: string): Promise<Array<[number, number]>>;
  /**
   * One of carbon's self-metrics (`cache.size`, `cache.overflow`, ...) as [report time, value], oldest first: the
   * reports written to its whisper file (time rounded down to the 10 s slot) and those still in the cache.
   */
  selfMetric(name: string): Promise<Array<[number, number]>>;
  /**
   * Waits until carbon reports on itself again (a new `metricsReceived` point, written or cached) and returns that
   * report's slot: the next report comes CARBON_METRIC_INTERVAL (10 s) after it. carbon's self-metrics go into its
   * own cache like any point, so a test that needs every report stored sends its load right after one.
   */
  nextReport(timeoutSeconds: number): Promise<number>;
}

/** carbonlink's cache query (graphite-web's way to read points not yet written), in Debian's Python: it speaks pickle. */
const CARBONLINK = `
import json, pickle, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
req = pickle.dumps({"type": "cache-query", "metric": sys.argv[2]}, protocol=2)
s.sendall(struct.pack("!L", len(req)) + req)
buf = b""
while len(buf) < 4 or len(buf) < 4 + struct.unpack("!L", buf[:4])[0]:
    chunk = s.recv(65536)
    if not chunk:
        raise SystemExit("carbonlink closed the connection")
    buf += chunk
print(json.dumps(sorted(pickle.loads(buf[4:])["datapoints"])))
`;

function python(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, ["-c", CARBONLINK, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(killer);
      if (code === 0) resolve(out);
      else reject(new Error(`carbonlink query ${args.join(" ")} exited ${code}: ${err.trim()}`));
    });
  });
}

/**
 * graphite-web's tag API, which carbon posts every new and updated series to (ENABLE_TAGS, as in the image): it
 * answers as graphite-web does for untagged series, so carbon's tag thread neither fails nor logs.
 */
async function tagApiStandIn(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("[]"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Starts carbon-cache with the program's files (paths and ports for this machine); stops with the group. */
export async function startCarbonCache(group: ProcessGroup, options: CarbonCacheOptions = {}): Promise<CarbonCache> {
  const bin = binaries.carbonCache();
  if (bin.skip) throw new Error(bin.skip);
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), "statsd-stack-carbon-"));
  for (const sub of ["conf", "storage/whisper", "storage/lists", "storage/log"]) mkdirSync(path.join(dir, sub), { recursive: true });
  // The stand-in listens first: a port of its own, taken after the three were picked, could have been one of them.
  const tags = await tagApiStandIn();
  const [linePort, picklePort, queryPort] = (await freeTcpPorts(3)) as [number, number, number];
  writeFileSync(path.join(dir, "conf", "storage-schemas.conf"), options.storageSchemas ?? storageSchemasConf(options.retentions));
  writeFileSync(path.join(dir, "conf", "storage-aggregation.conf"), options.storageAggregation ?? storageAggregationConf());
  const generated = carbonConf({
    storageDir: path.join(dir, "storage"),
    listenAddress: "127.0.0.1",
    linePort,
    picklePort,
    cacheQueryPort: queryPort,
    graphiteUrl: tags.url,
    maxCacheSize: options.maxCacheSize,
    maxUpdatesPerSecond: options.maxUpdatesPerSecond,
  });
  const conf = options.edit ? options.edit(generated) : generated;
  const confPath = path.join(dir, "conf", "carbon.conf");
  writeFileSync(confPath, conf);
  const proc = group.start("carbon-cache", bin.path, [`--config=${confPath}`, `--pidfile=${dir}/storage/carbon.pid`, "--nodaemon", "--logfile=-", "start"]);
  proc.child.once("exit", () => void tags.close());

  // Counted from the whole stream (the group keeps only the last lines): a line may span two chunks.
  let full = 0;
  let partial = "";
  proc.child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.includes(CACHE_FULL_LINE)) full++;
  });

  const listening = await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (proc.child.exitCode !== null) resolve(false);
        const socket = net.connect(linePort, "127.0.0.1");
        socket.once("connect", () => (socket.destroy(), resolve(true)));
        socket.once("error", () => resolve(false));
      }),
    30_000,
    100,
  );
  if (!listening) throw new Error(`carbon-cache did not listen on ${linePort}\n${proc.output()}`);

  const agent = `carbon.agents.${os.hostname().replace(/\./g, "_")}-a`;
  const whisperDir = path.join(dir, "storage", "whisper");
  const cached = async (metric: string) => JSON.parse(await python([String(queryPort), metric], 10_000)) as Array<[number, number]>;
  const selfMetric = async (name: string) => {
    const metric = `${agent}.${name}`;
    const file = whisperFile(whisperDir, metric);
    const bySlot = new Map(existsSync(file) ? whisperPoints(file) : []);
    for (const [time, value] of await cached(metric)) bySlot.set(Math.floor(time / STATSD_FLUSH_SECONDS) * STATSD_FLUSH_SECONDS, value);
    return [...bySlot].sort((a, b) => a[0] - b[0]);
  };
  return {
    proc,
    linePort,
    dir,
    whisperDir,
    conf,
    agent,
    cacheFullLines: () => full,
    memory: () => processMemory(proc.child.pid!),
    cached,
    selfMetric,
    nextReport: async (timeoutSeconds) => {
      const last = async () => (await selfMetric("metricsReceived")).at(-1)?.[0] ?? 0;
      const before = await last();
      let now = before;
      const reported = await waitFor(async () => (now = await last()) > before, timeoutSeconds * 1000, 50);
      if (!reported) throw new Error(`carbon-cache did not report on itself within ${timeoutSeconds} s\n${proc.output()}`);
      return now;
    },
  };
}

/**
 * Sends `lines` to carbon's plaintext (line) receiver on one TCP connection, as statsd's flush does (connect, write,
 * end), and resolves when carbon has read all of it and closed. Yields to the socket's backpressure, so millions of
 * lines need no more memory here than a batch.
 */
export function sendPlaintext(port: number, lines: Iterable<string>, batch = 10_000): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const it = lines[Symbol.iterator]();
    let bytes = 0;
    const pump = () => {
      for (;;) {
        const chunk: string[] = [];
        for (let next = it.next(); !next.done; next = it.next()) {
          chunk.push(next.value);
          if (chunk.length === batch) break;
        }
        if (chunk.length === 0) {
          socket.end();
          return;
        }
        const text = `${chunk.join("\n")}\n`;
        bytes += Buffer.byteLength(text);
        if (!socket.write(text)) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    socket.once("connect", pump);
    socket.once("error", reject);
    socket.once("close", () => resolve({ seconds: (performance.now() - started) / 1000, bytes }));
    socket.resume();
  });
}

/** The whisper file of a metric, as carbon names it. */
export function whisperFile(whisperDir: string, metric: string): string {
  return path.join(whisperDir, ...metric.split(".")) + ".wsp";
}

/** Whisper's aggregation types, by the number its header stores. */
const WHISPER_AGGREGATION = ["", "average", "sum", "last", "max", "min", "avg_zero", "absmax", "absmin"] as const;

/** A whisper file's header: how it rolls points up, and its archives (finest first). */
export function whisperInfo(file: string): { aggregationMethod: string; xFilesFactor: number; archives: Array<{ secondsPerPoint: number; points: number }> } {
  const data = readFileSync(file);
  const archives = Array.from({ length: data.readUInt32BE(12) }, (_, i) => ({ secondsPerPoint: data.readUInt32BE(20 + i * 12), points: data.readUInt32BE(24 + i * 12) }));
  return { aggregationMethod: WHISPER_AGGREGATION[data.readUInt32BE(0)] ?? `unknown ${data.readUInt32BE(0)}`, xFilesFactor: data.readFloatBE(8), archives };
}

/**
 * The points one archive of a whisper file holds (the finest by default), as [timestamp, value], oldest first.
 * Whisper's format: a 16-byte header (aggregation, max retention, xFilesFactor, archive count), 12 bytes per archive
 * (offset, seconds per point, points), then each archive's slots of a 32-bit timestamp and a 64-bit float,
 * big-endian; an empty slot has timestamp 0.
 */
export function whisperPoints(file: string, archive = 0): Array<[number, number]> {
  const data = readFileSync(file);
  const info = 16 + archive * 12;
  const [offset, , slots] = [data.readUInt32BE(info), data.readUInt32BE(info + 4), data.readUInt32BE(info + 8)];
  const points: Array<[number, number]> = [];
  for (let i = 0; i < slots; i++) {
    const at = offset + i * 12;
    const timestamp = data.readUInt32BE(at);
    if (timestamp !== 0) points.push([timestamp, data.readDoubleBE(at + 4)]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}
