/**
 * Benchmark: requests/s on `/` for a bare node:http hello-world, the app with metrics off, and the app with metrics
 * on (sending to a real UDP listener), measured in one run on this machine with autocannon.
 *
 *   npm run bench            (in app/; or `npm run bench` at the repo root)
 *   BENCH_SECONDS=20 BENCH_CONNECTIONS=50 npm run bench
 *
 * Targets: metrics-on >= 0.95 x metrics-off, and >= 0.8 x bare node:http.
 */
import { fork, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import http from "node:http";
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

async function start(target: Target, statsdPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(__filename, ["--serve", target, String(statsdPort)], { stdio: "inherit" });
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

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const sink = dgram.createSocket("udp4");
  let datagrams = 0;
  sink.on("message", () => datagrams++);
  await new Promise<void>((resolve) => sink.bind(0, "127.0.0.1", resolve));
  const statsdPort = (sink.address() as AddressInfo).port;

  const targets: Target[] = ["bare", "metrics-off", "metrics-on"];
  const results = {} as Record<Target, Measurement>;
  for (const target of targets) {
    const { child, port } = await start(target, statsdPort);
    await measure(child, port, 2, connections); // warm-up: JIT and connection pools
    results[target] = await measure(child, port, seconds, connections);
    child.kill();
    const r = results[target];
    console.log(`${target.padEnd(12)} ${r.rate.toFixed(0).padStart(7)} req/s   server CPU ${r.cpuPerRequest.toFixed(1).padStart(5)} us/request`);
  }
  sink.close();
  const ratio = (name: string, a: number, b: number, target: number) =>
    console.log(`${name.padEnd(44)} ${(a / b).toFixed(3)} (target >= ${target.toFixed(2)}) ${a / b >= target ? "ok" : "MISSED"}`);
  ratio("throughput metrics-on / metrics-off", results["metrics-on"].rate, results["metrics-off"].rate, 0.95);
  ratio("throughput metrics-on / bare", results["metrics-on"].rate, results.bare.rate, 0.8);
  // On a machine where the load generator shares the cores, throughput also measures the generator; CPU per
  // request is the server's own capacity: capacity ratio = cost without / cost with.
  ratio("capacity (CPU/request) metrics-on / metrics-off", results["metrics-off"].cpuPerRequest, results["metrics-on"].cpuPerRequest, 0.95);
  ratio("capacity (CPU/request) metrics-on / bare", results.bare.cpuPerRequest, results["metrics-on"].cpuPerRequest, 0.8);
  console.log(`UDP datagrams received while metrics were on: ${datagrams}`);
}

if (process.argv[2] === "--serve") serve(process.argv[3] as Target, process.argv[4]!);
else void main();
