/**
 * What carbon's cache costs in memory, and what a burst of new series does to a bounded cache (a benchmark: it
 * prints figures, it asserts nothing). About 4 minutes:
 *
 *   npm run bench:carbon-cache
 *   npm run bench:carbon-cache -- --phases cost,burst     (any of cost, burst, flow, beside)
 *   npm run bench:carbon-cache -- --phases burst --bound 800000 --series 1500000
 *
 * It runs the real carbon-cache (Debian's graphite-carbon, the image's 1.1.x line: the cache, its bound, flow control
 * and the writer are the same code as the image's 1.1.10) on 127.0.0.1 with the program's carbon.conf and storage
 * files, and sends Graphite plaintext lines to it as statsd's flush does (one TCP connection, every line at once).
 * Series are named like statsd's timer fields (`stats.timers.sample_api.http_request_duration_ms.route_N.GET.200.
 * upper_99`): a name's length is part of what a cached point costs.
 *
 * - cost: what a cached point costs. carbon's whisper writer held to 1 update/s, so the cache keeps what is sent;
 *   the cache size is carbon's own report (carbon.agents.*.cache.size), the memory /proc/<pid>/status's VmRSS.
 * - burst: the program's carbon.conf unchanged (MAX_CACHE_SIZE sized for the container's limit; --bound sets another):
 *   a burst of new series, 1.5 times the bound (--series), one point each. Points dropped on the full cache are
 *   counted from carbon's log (one "MetricCache is full" line per point) and from its own counters; peak memory
 *   against the budget.
 * - flow: the choice of USE_FLOW_CONTROL, on a small bound with the writer held: the same burst sent as statsd
 *   sends (one write of the whole payload), with flow control off (the program's) and on.
 * - beside: what else the container holds, on the local harness's processes: graphite-web (one Django process),
 *   statsd idle and with 50,000 counters (100,000 Graphite series).
 */
import dgram from "node:dgram";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { waitFor } from "../app/src/tools/wait";
import {
  CARBON_CACHE_BYTES_PER_POINT,
  GRAPHITE_MEMORY_BESIDE_CACHE_MIB,
  GRAPHITE_MEMORY_LIMIT_MIB,
  MAX_CACHE_SIZE,
  statsdConfigJs,
} from "../pipeline/graphite";
import { STATSD_FLUSH_SECONDS } from "../pipeline/settings";
import { processMemory, sendPlaintext, startCarbonCache, type CarbonCache } from "./local/carbon";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup } from "./local/processes";
import { startGraphiteStack } from "./local/stacks";

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** Clean-ups at the end: carbon's folders (the whisper files of a burst take hundreds of MB), statsd's config. */
const onExit: Array<() => void> = [];
const track = (carbon: CarbonCache) => (onExit.push(() => rmSync(carbon.dir, { recursive: true, force: true })), carbon);

/** A statsd timer field's Graphite path, one per series. */
const seriesName = (i: number) => `stats.timers.sample_api.http_request_duration_ms.route_${i}.GET.200.upper_99`;

/** `series` series x `points` points, one flush interval apart, oldest first, each point of a series in turn. */
function* burst(series: number, points: number, now: number): Generator<string> {
  for (let p = points; p >= 1; p--) {
    for (let s = 0; s < series; s++) yield `${seriesName(s)} ${s % 1000}.5 ${now - p * STATSD_FLUSH_SECONDS}`;
  }
}

/** The last value carbon reported for one of its self-metrics at or after `since` (its report slot). */
async function reported(carbon: CarbonCache, name: string, since: number): Promise<number[]> {
  return (await carbon.selfMetric(name)).filter(([t]) => t >= since).map(([, v]) => v);
}

async function cost(series: number, points: number): Promise<void> {
  const group = new ProcessGroup();
  try {
    // A bound no burst here reaches, and a writer that takes one series a second: the cache keeps what is sent.
    const carbon = track(await startCarbonCache(group, { maxCacheSize: 1_000_000_000, maxUpdatesPerSecond: 1 }));
    await carbon.nextReport(15);
    const before = carbon.memory();
    const sent = await sendPlaintext(carbon.linePort, burst(series, points, Math.floor(Date.now() / 1000)));
    const report = await carbon.nextReport(15);
    const size = (await reported(carbon, "cache.size", report)).at(-1)!;
    const after = carbon.memory();
    console.log(
      `${int(series)} series x ${points} point(s): ${int(series * points)} points sent in ${sent.seconds.toFixed(1)} s, ` +
        `cache.size ${int(size)}; RSS ${mib(before.rssBytes)} -> ${mib(after.rssBytes)} (peak ${mib(after.peakBytes)}): ` +
        `${int((after.rssBytes - before.rssBytes) / size)} bytes per cached point (peak ${int((after.peakBytes - before.rssBytes) / size)})`,
    );
  } finally {
    await group.stopAll();
  }
}

async function burstAgainstBound(bound: number, series: number): Promise<void> {
  const group = new ProcessGroup();
  try {
    const carbon = track(await startCarbonCache(group, bound === MAX_CACHE_SIZE ? {} : { maxCacheSize: bound }));
    const settings = carbon.conf.split("\n").filter((l) => /^(MAX_CACHE_SIZE|MAX_UPDATES_PER_SECOND|MAX_CREATES_PER_MINUTE|USE_FLOW_CONTROL) /.test(l));
    console.log(`carbon.conf: ${settings.join(", ")}`);
    const first = await carbon.nextReport(15);
    const before = carbon.memory();
    const sent = await sendPlaintext(carbon.linePort, burst(series, 1, Math.floor(Date.now() / 1000)));
    const droppedWhileSending = carbon.cacheFullLines();
    // Wait until carbon's writer has emptied the cache (new series: most are dropped for MAX_CREATES_PER_MINUTE).
    let sizes: number[] = [];
    await waitFor(async () => {
      await carbon.nextReport(15);
      sizes = await reported(carbon, "cache.size", first);
      return sizes.at(-1)! < 1000;
    }, 120_000, 0);
    const sum = async (name: string) => (await reported(carbon, name, first)).reduce((a, b) => a + b, 0);
    const after = carbon.memory();
    const budget = GRAPHITE_MEMORY_BESIDE_CACHE_MIB.carbon * MIB + bound * CARBON_CACHE_BYTES_PER_POINT;
    console.log(`${int(series)} new series x 1 point: sent in ${sent.seconds.toFixed(1)} s (${int(series / sent.seconds)} points/s read by carbon)`);
    console.log(`  cache.size reported (every ${STATSD_FLUSH_SECONDS} s): ${sizes.map(int).join(", ")}`);
    console.log(`  cache.queues reported (series in the cache, empty entries left by dropped points included): ${(await reported(carbon, "cache.queues", first)).map(int).join(", ")}`);
    console.log(`  dropped on the full cache, carbon's log: ${int(carbon.cacheFullLines())} points (${int(droppedWhileSending)} while the burst arrived)`);
    console.log(`  dropped on the full cache, carbon's cache.overflow: ${int(await sum("cache.overflow"))} (reports made while the cache was full are dropped with the rest)`);
    console.log(`  carbon's metricsReceived: ${int(await sum("metricsReceived"))} of ${int(series)} sent (same)`);
    console.log(`  dropped for MAX_CREATES_PER_MINUTE (droppedCreates): ${int(await sum("droppedCreates"))}; files created: ${int(await sum("creates"))}; points written: ${int(await sum("committedPoints"))}`);
    console.log(`  carbon-cache RSS ${mib(before.rssBytes)} before, peak ${mib(after.peakBytes)}: ${int((after.peakBytes - before.rssBytes) / bound)} bytes per point of the bound; budget (empty carbon + bound x ${CARBON_CACHE_BYTES_PER_POINT} bytes) ${mib(budget)}`);
  } finally {
    await group.stopAll();
  }
}

/** The kernel's send and receive queues (bytes) of this machine's TCP sockets on `localPort`, from /proc/net/tcp. */
function tcpQueues(localPort: number, remotePort?: number): { tx: number; rx: number } {
  const port = (address: string) => parseInt(address.split(":")[1]!, 16);
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || port(fields[1]!) !== localPort || (remotePort !== undefined && port(fields[2]!) !== remotePort)) continue;
    const [tx, rx] = fields[4]!.split(":").map((hex) => parseInt(hex, 16));
    return { tx: tx!, rx: rx! };
  }
  return { tx: 0, rx: 0 };
}

interface Flush {
  readonly seconds: number;
  /** Whether carbon read all of it (and closed) before the deadline. */
  readonly finished: boolean;
  readonly bytes: number;
  /** At the deadline: bytes still in the sender's memory (Node's socket buffer), as statsd would hold them. */
  readonly senderBytes: number;
  /** At the deadline: bytes in the kernel's socket queues between the two (sender's send queue, carbon's receive queue). */
  readonly kernelBytes: number;
}

/**
 * Sends `lines` as statsd 0.9's graphite backend does: connect, write the whole payload, end; statsd holds the payload
 * in memory until the kernel takes it. Here it is handed over 64 KiB at a time, the next piece when the kernel took
 * the last, so what the kernel has not taken is known (statsd's one write holds the same bytes).
 */
async function statsdLikeFlush(carbonPort: number, lines: string[], deadlineMs: number): Promise<Flush> {
  const payload = Buffer.from(`${lines.join("\n")}\n`);
  const started = performance.now();
  const deadline = Date.now() + deadlineMs;
  const socket = net.connect(carbonPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const closed = new Promise<boolean>((resolve) => socket.once("close", () => resolve(true)));
  let taken = 0;
  while (taken < payload.length) {
    const piece = payload.subarray(taken, taken + 65_536);
    const written = new Promise<boolean>((resolve) => socket.write(piece, () => resolve(true)));
    if (!(await Promise.race([written, sleep(Math.max(0, deadline - Date.now())).then(() => false)]))) break;
    taken += piece.length;
  }
  if (taken === payload.length) socket.end();
  const finished = await Promise.race([closed, sleep(Math.max(0, deadline - Date.now())).then(() => false)]);
  const kernelBytes = finished ? 0 : tcpQueues(socket.localPort!).tx + tcpQueues(carbonPort, socket.localPort!).rx;
  socket.destroy();
  return { seconds: (performance.now() - started) / 1000, finished, bytes: payload.length, senderBytes: payload.length - taken, kernelBytes };
}

async function flowControl(on: boolean): Promise<void> {
  const group = new ProcessGroup();
  try {
    const bound = 50_000;
    const carbon = track(await startCarbonCache(group, {
      maxCacheSize: bound,
      maxUpdatesPerSecond: 1,
      edit: (conf) => {
        const edited = conf.replace(/^USE_FLOW_CONTROL = False$/m, `USE_FLOW_CONTROL = ${on ? "True" : "False"}`);
        if (!/^USE_FLOW_CONTROL = (True|False)$/m.test(edited)) throw new Error("carbon.conf has no USE_FLOW_CONTROL line");
        return edited;
      },
    }));
    await carbon.nextReport(15);
    const series = 200_000;
    const lines = [...burst(series, 1, Math.floor(Date.now() / 1000))];
    const flush = await statsdLikeFlush(carbon.linePort, lines, 20_000);
    const state = flush.finished
      ? `carbon read all ${mib(flush.bytes)} in ${flush.seconds.toFixed(1)} s`
      : `after ${flush.seconds.toFixed(0)} s carbon had read ${mib(flush.bytes - flush.senderBytes - flush.kernelBytes)} of ${mib(flush.bytes)}: ` +
        `${mib(flush.senderBytes)} waited in the sender's memory, ${mib(flush.kernelBytes)} in the kernel's socket buffers`;
    console.log(`USE_FLOW_CONTROL = ${on ? "True " : "False"}: MAX_CACHE_SIZE ${int(bound)}, ${int(series)} new series x 1 point in one write: ${state}; dropped on the full cache (log): ${int(carbon.cacheFullLines())}`);
  } finally {
    await group.stopAll();
  }
}

/** Our own child processes, by command line: the harness's graphite-web has no handle of its own. */
function childPid(match: RegExp): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (ppid === process.pid && match.test(cmdline)) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error(`no child process matches ${match}`);
}

async function beside(): Promise<void> {
  const group = new ProcessGroup();
  try {
    const stack = await startGraphiteStack(group);
    await fetch(`${stack.graphiteUrl}/render?target=carbon.agents.*.*&from=-5min&format=json`);
    const web = processMemory(childPid(/runserver/));
    const carbon = processMemory(childPid(/carbon-cache/));
    const statsdIdle = processMemory(stack.statsd.child.pid!);
    console.log(`graphite-web (one Django process, after a render): RSS ${mib(web.rssBytes)}; carbon-cache, empty: ${mib(carbon.rssBytes)}; statsd, idle: ${mib(statsdIdle.rssBytes)}`);
    await group.stopAll();

    // statsd alone, flushing to a sink that reads and discards: its own memory, not carbon's pace, is measured.
    const sink = net.createServer((s) => s.resume());
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const [udp, admin] = [await freeTcpUdpPort(), await freeTcpPort()];
    const config = path.join(os.tmpdir(), `statsd-stack-bench-statsd-${process.pid}.js`);
    onExit.push(() => rmSync(config, { force: true }));
    writeFileSync(config, statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: (sink.address() as net.AddressInfo).port, port: udp, mgmtPort: admin, listenAddress: "127.0.0.1" }));
    const statsd = group.start("statsd", process.execPath, [path.join(__dirname, "..", "node_modules", "statsd", "stats.js"), config]);
    await sleep(2000);
    const idle = processMemory(statsd.child.pid!);
    const counters = 50_000;
    const socket = dgram.createSocket("udp4");
    for (let i = 0; i < counters; i += 20) {
      const datagram = Array.from({ length: Math.min(20, counters - i) }, (_, j) => `burst.route_${i + j}.GET.200:1|c`).join("\n");
      await new Promise<void>((resolve) => socket.send(datagram, udp, "127.0.0.1", () => resolve()));
      if (i % 2000 === 0) await sleep(5);
    }
    socket.close();
    await sleep(2.5 * STATSD_FLUSH_SECONDS * 1000);
    const loaded = processMemory(statsd.child.pid!);
    sink.close();
    const perSeries = (loaded.peakBytes - idle.rssBytes) / (2 * counters);
    console.log(
      `statsd with ${int(counters)} counters (${int(2 * counters)} Graphite series: stats.* and stats_counts.*), after two flushes: ` +
        `RSS ${mib(idle.rssBytes)} -> ${mib(loaded.rssBytes)}, peak ${mib(loaded.peakBytes)}: ${int(perSeries)} bytes per Graphite series at the peak`,
    );
  } finally {
    await group.stopAll();
  }
}

const PHASES = ["cost", "burst", "flow", "beside"] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phases: { type: "string", default: PHASES.join(",") },
      // The burst phase: another bound than the program's (a larger cache costs more per point: bigger tables),
      // and how many new series to send (default 1.5 times the bound).
      bound: { type: "string", default: String(MAX_CACHE_SIZE) },
      series: { type: "string" },
    },
  });
  const bound = Number(values.bound);
  const series = values.series === undefined ? Math.round(bound * 1.5) : Number(values.series);
  if (!Number.isSafeInteger(bound) || bound < 1) throw new Error(`--bound=${values.bound} is not valid: expected a whole number of points`);
  if (!Number.isSafeInteger(series) || series < 1) throw new Error(`--series=${values.series} is not valid: expected a whole number of series`);
  const phases = values.phases!.split(",");
  const unknown = phases.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`--phases=${values.phases} is not valid: expected some of ${PHASES.join(", ")}`);
  const started = performance.now();
  console.log(`bench:carbon-cache: container limit ${GRAPHITE_MEMORY_LIMIT_MIB} MiB, MAX_CACHE_SIZE ${int(MAX_CACHE_SIZE)} points`);
  if (phases.includes("cost")) {
    console.log("\n== what a cached point costs (writer held to 1 update/s, cache unbounded)");
    await cost(1_000_000, 1);
    await cost(100_000, 10);
  }
  if (phases.includes("burst")) {
    console.log(`\n== a burst of new series against ${bound === MAX_CACHE_SIZE ? "the program's bound" : `a bound of ${int(bound)} points`}`);
    await burstAgainstBound(bound, series);
  }
  if (phases.includes("flow")) {
    console.log("\n== USE_FLOW_CONTROL: a statsd-like flush beyond a full cache (writer held to 1 update/s)");
    await flowControl(false);
    await flowControl(true);
  }
  if (phases.includes("beside")) {
    console.log("\n== what else the container holds (local processes)");
    await beside();
  }
  console.log(`\nbench:carbon-cache: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

void main()
  .catch((err: unknown) => {
    console.error(`bench:carbon-cache: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const clean of onExit) clean();
  });
