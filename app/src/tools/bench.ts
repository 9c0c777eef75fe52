/**
 * Benchmark: requests/s on `/` for a bare node:http hello-world, the app with metrics off, and the app with metrics
 * on (sending to a real UDP listener), measured in one run on this machine with autocannon.
 *
 *   npm run bench            (in app/; or `npm run bench` at the repo root)
 *   BENCH_ROUNDS=9 BENCH_SECONDS=10 BENCH_CONNECTIONS=50 npm run bench
 *
 * The three servers run side by side and are measured in interleaved rounds; each ratio is the median over rounds of
 * the ratio within a round. Where `taskset` exists the servers share CPU 0 and the load generator keeps to the other
 * CPUs (BENCH_PIN=0 turns this off). Targets: metrics-on >= 0.95 x metrics-off, and >= 0.8 x bare node:http.
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import autocannon from "autocannon";
import { loadConfig } from "../config";
import { createRecorder } from "../metrics/recorder";
import { createServer } from "../server";

type Target = "bare" | "metrics-off" | "metrics-on";

/** Child mode: serve one target on an ephemeral port and report the port to the parent. */
function serve(target: Target, statsdPort: string): void {
  const server =
    target === "bare"
      ? http.createServer((_req, res) => {
          res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
          res.end("Hello, World!");
        })
      : createServer({
          recorder: createRecorder(
            loadConfig(
              {
                METRICS_ENABLED: target === "metrics-on" ? "true" : "false",
                STATSD_HOST: "127.0.0.1",
                STATSD_PORT: statsdPort,
                METRICS_STYLE: "dogstatsd",
              },
              "bench",
            ),
            () => {},
          ),
        });
  server.listen(0, "127.0.0.1", () => process.send!((server.address() as AddressInfo).port));
  // The parent asks for this process's CPU time (user + system, microseconds) around each measurement.
  process.on("message", () => {
    const { user, system } = process.cpuUsage();
    process.send!(user + system);
  });
}

/** CPU microseconds the server process has used so far. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as number));
    child.send("cpu");
  });
}

/** `taskset` when this machine has it and more than one CPU: servers on CPU 0, the load generator on the others. */
const taskset = ["/usr/bin/taskset", "/bin/taskset"].find((p) => existsSync(p));
const pinning = process.env.BENCH_PIN !== "0" && taskset !== undefined && os.cpus().length > 1;

async function start(target: Target, statsdPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(__filename, ["--serve", target, String(statsdPort)], {
    stdio: "inherit",
    ...(pinning ? { execPath: taskset, execArgv: ["-c", "0", process.execPath, ...process.execArgv] } : {}),
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m) => resolve(m as number));
    child.once("exit", (code) => reject(new Error(`${target} server exited with ${code}`)));
  });
  return { child, port };
}

interface Measurement {
  /** Requests per second autocannon achieved. */
  readonly rate: number;
  /** Server CPU time (user + system) per request, in microseconds: the server's cost, whatever limits the rate. */
  readonly cpuPerRequest: number;
}

async function measure(child: ChildProcess, port: number, seconds: number, connections: number): Promise<Measurement> {
  const cpuBefore = await cpuOf(child);
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, duration: seconds, connections });
  const cpuAfter = await cpuOf(child);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`errors during benchmark: ${result.errors}, non-2xx ${result.non2xx}`);
  return { rate: result.requests.average, cpuPerRequest: (cpuAfter - cpuBefore) / result.requests.total };
}

/** A positive whole number from the environment, or the default; anything else stops the benchmark with the reason. */
function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench: ${name}=${raw} is not valid: expected a whole number >= 1`);
    process.exit(2);
  }
  return value;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  if (pinning) {
    // The load generator (this process) keeps off the servers' CPU.
    const others = os.cpus().map((_, i) => i).filter((i) => i !== 0).join(",");
    spawnSync(taskset!, ["-p", "-c", others, String(process.pid)], { stdio: "ignore" });
  }
  const seconds = setting("BENCH_SECONDS", 5);
  const rounds = setting("BENCH_ROUNDS", 9);
  const connections = setting("BENCH_CONNECTIONS", 50);
  const sink = dgram.createSocket("udp4");
  let datagrams = 0;
  sink.on("message", () => datagrams++);
  await new Promise<void>((resolve) => sink.bind(0, "127.0.0.1", resolve));
  const statsdPort = (sink.address() as AddressInfo).port;

  const targets: Target[] = ["bare", "metrics-off", "metrics-on"];
  const servers = new Map<Target, { child: ChildProcess; port: number }>();
  for (const target of targets) {
    const server = await start(target, statsdPort);
    servers.set(target, server);
    await measure(server.child, server.port, 2, connections); // warm-up: JIT and connection pools
  }
  // Rounds interleave the targets, each round in a rotated order, so that a slow spell of a shared machine lands on
  // every target alike instead of on whichever happened to run then; each figure is the median of its rounds.
  const samples = new Map<Target, Measurement[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, k) => targets[(k + round) % targets.length]!);
    for (const target of order) {
      const { child, port } = servers.get(target)!;
      samples.get(target)!.push(await measure(child, port, seconds, connections));
    }
    const last = (t: Target) => samples.get(t)!.at(-1)!.rate.toFixed(0);
    console.log(`round ${round + 1}/${rounds}: ${targets.map((t) => `${t} ${last(t)}`).join(", ")} req/s`);
  }
  for (const { child } of servers.values()) child.kill();
  sink.close();

  const placement = pinning ? "servers pinned to CPU 0, load generator to the others" : "processes not pinned";
  console.log(`\nmedian of ${rounds} rounds of ${seconds} s, ${connections} connections, ${os.cpus().length} CPUs, ${placement}, Node ${process.version}`);
  for (const target of targets) {
    const runs = samples.get(target)!;
    const rates = runs.map((m) => m.rate);
    console.log(
      `${target.padEnd(12)} ${median(rates).toFixed(0).padStart(7)} req/s (rounds ${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)})` +
        `   server CPU ${median(runs.map((m) => m.cpuPerRequest)).toFixed(1).padStart(5)} us/request`,
    );
  }
  // Each ratio compares measurements of the same round, taken back to back, and the median is over rounds: a paired
  // comparison, which a slow spell of the machine cannot tilt the way it tilts a ratio of separate medians.
  const pairedRatio = (name: string, of: (m: Measurement) => number, a: Target, b: Target, target: number) => {
    const ratios = samples.get(a)!.map((m, k) => of(m) / of(samples.get(b)![k]!));
    const value = median(ratios);
    const range = `rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    console.log(`${name.padEnd(48)} ${value.toFixed(3)} (${range}; target >= ${target.toFixed(2)}) ${value >= target ? "ok" : "MISSED"}`);
  };
  const rate = (m: Measurement) => m.rate;
  // Capacity is the inverse of CPU per request: on a machine where the load generator shares the cores, throughput
  // also measures the generator, while CPU per request is the server's own cost.
  const capacity = (m: Measurement) => 1 / m.cpuPerRequest;
  pairedRatio("throughput metrics-on / metrics-off", rate, "metrics-on", "metrics-off", 0.95);
  pairedRatio("throughput metrics-on / bare", rate, "metrics-on", "bare", 0.8);
  pairedRatio("capacity (1 / CPU per request) on / off", capacity, "metrics-on", "metrics-off", 0.95);
  pairedRatio("capacity (1 / CPU per request) on / bare", capacity, "metrics-on", "bare", 0.8);
  console.log(`UDP datagrams received while metrics were on: ${datagrams}`);
}

if (process.argv[2] === "--serve") serve(process.argv[3] as Target, process.argv[4]!);
else void main();
