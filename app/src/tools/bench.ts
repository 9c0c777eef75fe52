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
}

async function start(target: Target, statsdPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(__filename, ["--serve", target, String(statsdPort)], { stdio: "inherit" });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m) => resolve(m as number));
    child.once("exit", (code) => reject(new Error(`${target} server exited with ${code}`)));
  });
  return { child, port };
}

async function measure(port: number, seconds: number, connections: number): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, duration: seconds, connections });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`errors during benchmark: ${result.errors}, non-2xx ${result.non2xx}`);
  return result.requests.average;
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const sink = dgram.createSocket("udp4");
  let datagrams = 0;
  sink.on("message", () => datagrams++);
  await new Promise<void>((resolve) => sink.bind(0, "127.0.0.1", resolve));
  const statsdPort = (sink.address() as AddressInfo).port;

  const rates: Record<Target, number> = { bare: 0, "metrics-off": 0, "metrics-on": 0 };
  for (const target of Object.keys(rates) as Target[]) {
    const { child, port } = await start(target, statsdPort);
    await measure(port, 2, connections); // warm-up: JIT and connection pools
    rates[target] = await measure(port, seconds, connections);
    child.kill();
    console.log(`${target.padEnd(12)} ${rates[target].toFixed(0).padStart(7)} req/s`);
  }
  sink.close();
  const onOff = rates["metrics-on"] / rates["metrics-off"];
  const onBare = rates["metrics-on"] / rates.bare;
  console.log(`metrics-on / metrics-off = ${onOff.toFixed(3)} (target >= 0.95) ${onOff >= 0.95 ? "ok" : "MISSED"}`);
  console.log(`metrics-on / bare        = ${onBare.toFixed(3)} (target >= 0.80) ${onBare >= 0.8 ? "ok" : "MISSED"}`);
  console.log(`UDP datagrams received while metrics were on: ${datagrams}`);
}

if (process.argv[2] === "--serve") serve(process.argv[3] as Target, process.argv[4]!);
else void main();
