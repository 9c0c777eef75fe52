/**
 * High-rate accounting through the real pipeline (a benchmark: it prints figures, it asserts nothing):
 *
 *   npm run bench:pipeline                         both topologies, 2,000 requests/s for 30 s
 *   npm run bench:pipeline -- --topology graphite --rate 3000 --seconds 60
 *
 * It starts a topology as local processes on 127.0.0.1 with the program's generated files (the end-to-end tests'
 * harness: the app, statsd_exporter v0.30.0 and Prometheus 3.13.5, or the app, Etsy statsd, carbon-cache and
 * graphite-web), drives `/` at a fixed rate with autocannon, waits until the backend's count stops moving, and
 * prints requests sent against requests counted, with every loss counter on the path: the kernel's UDP receive
 * errors on this machine, statsd_exporter's drops and malformed lines, statsd's bad lines, carbon's dropped creates.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { catalog, DEFAULT_APP_NAME, DEFAULT_METRIC_PREFIX } from "../app/src/metrics/catalog";
import { waitFor } from "../app/src/tools/wait";
import { startExporterStack, startGraphiteStack } from "./local/stacks";
import { mustRun, ProcessGroup } from "./local/processes";
import { EXPORTER_LOSS_COUNTERS, GraphiteApi, metricsTextTotal, PrometheusApi, sumPoints } from "./checks/backends";
import { graphiteRequestTotal } from "./checks/traffic";

const AUTOCANNON = path.join(__dirname, "..", "app", "node_modules", ".bin", "autocannon");

/** The kernel's UDP counters for this machine (all sockets): what a receiver too slow to keep up loses. */
function udpKernelCounters(): { InErrors: number; RcvbufErrors: number } {
  const lines = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((l) => l.startsWith("Udp:"));
  const [names, values] = [lines[0]!.split(/\s+/).slice(1), lines[1]!.split(/\s+/).slice(1).map(Number)];
  const all = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
  return { InErrors: all.InErrors ?? 0, RcvbufErrors: all.RcvbufErrors ?? 0 };
}

interface Drive {
  /** Requests sent, each of them answered: autocannon stops after exactly `rate x seconds`. */
  readonly sent: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rate: number;
}

/**
 * `autocannon -R rate -a rate*seconds` on `/`: a fixed number of requests at a fixed rate, so none is in flight when
 * it stops and every request sent was answered (a run by duration leaves one request per connection uncounted).
 */
async function drive(url: string, rate: number, seconds: number): Promise<Drive> {
  const args = ["--json", "-c", "50", "-a", String(rate * seconds), "-R", String(rate), `${url}/`];
  const out = await mustRun(AUTOCANNON, args, { timeoutMs: (seconds + 120) * 1000 });
  const r = JSON.parse(out) as { "2xx": number; non2xx: number; errors: number; timeouts: number; duration: number };
  const answered = r["2xx"] + r.non2xx;
  return { sent: answered, non2xx: r.non2xx, errors: r.errors + r.timeouts, seconds: r.duration, rate: answered / r.duration };
}

/** Reads `count` until two readings `stableMs` apart agree and reach `expected`, or `timeoutMs` passes. */
async function settled(count: () => Promise<number>, expected: number, stableMs: number, timeoutMs: number): Promise<number> {
  let last = await count();
  await waitFor(
    async () => {
      const previous = last;
      last = await count();
      return last === previous && last >= expected;
    },
    timeoutMs,
    stableMs,
  );
  return last;
}

function report(topology: string, d: Drive, counted: number, losses: Record<string, number>): void {
  console.log(`\n== ${topology}`);
  console.log(`requests sent      ${d.sent} in ${d.seconds.toFixed(1)} s (${Math.round(d.rate)}/s; ${d.non2xx} non-2xx, ${d.errors} transport errors)`);
  console.log(`requests counted   ${counted} (${((100 * counted) / d.sent).toFixed(3)} %)`);
  for (const [name, n] of Object.entries(losses)) console.log(`${name.padEnd(52)} ${n}`);
}

async function exporter(rate: number, seconds: number): Promise<void> {
  const group = new ProcessGroup();
  try {
    const stack = await startExporterStack(group);
    const prom = new PrometheusApi(stack.prometheusUrl);
    const kernelBefore = udpKernelCounters();
    const d = await drive(stack.apiUrl, rate, seconds);
    const kernelAfter = udpKernelCounters();
    const total = async () => (await prom.query(`sum(${catalog.requests.prometheusName}{app_name="${DEFAULT_APP_NAME}"})`))[0]?.value ?? 0;
    const counted = await settled(total, d.sent, 6_000, 90_000);
    const text = await (await fetch(stack.exporterMetricsUrl)).text();
    report("exporter: app -> statsd_exporter -> Prometheus", d, counted, {
      "kernel UDP InErrors (this machine, during the load)": kernelAfter.InErrors - kernelBefore.InErrors,
      "kernel UDP RcvbufErrors (this machine, during the load)": kernelAfter.RcvbufErrors - kernelBefore.RcvbufErrors,
      ...Object.fromEntries(EXPORTER_LOSS_COUNTERS.map((n) => [n, metricsTextTotal(text, n)])),
      statsd_exporter_udp_packets_total: metricsTextTotal(text, "statsd_exporter_udp_packets_total"),
    });
  } finally {
    await group.stopAll();
  }
}

async function graphite(rate: number, seconds: number): Promise<void> {
  const group = new ProcessGroup();
  try {
    const stack = await startGraphiteStack(group);
    const api = new GraphiteApi(stack.graphiteUrl);
    const from = Math.floor(Date.now() / 1000) - 60;
    const kernelBefore = udpKernelCounters();
    const d = await drive(stack.apiUrl, rate, seconds);
    const kernelAfter = udpKernelCounters();
    const counted = await settled(() => graphiteRequestTotal(api, DEFAULT_METRIC_PREFIX, from), d.sent, 12_000, 120_000);
    const stat = async (target: string) => sumPoints(await api.render(target, String(from)));
    report("graphite: app -> statsd -> carbon -> graphite-web", d, counted, {
      "kernel UDP InErrors (this machine, during the load)": kernelAfter.InErrors - kernelBefore.InErrors,
      "kernel UDP RcvbufErrors (this machine, during the load)": kernelAfter.RcvbufErrors - kernelBefore.RcvbufErrors,
      "statsd bad_lines_seen": await stat("stats_counts.statsd.bad_lines_seen"),
      "statsd packets_received": await stat("stats_counts.statsd.packets_received"),
      "carbon droppedCreates": await stat("sumSeries(carbon.agents.*.droppedCreates)"),
      "carbon errors": await stat("sumSeries(carbon.agents.*.errors)"),
    });
  } finally {
    await group.stopAll();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      topology: { type: "string", default: "both" },
      rate: { type: "string", default: "2000" },
      seconds: { type: "string", default: "30" },
    },
  });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  if (!["both", "exporter", "graphite"].includes(values.topology!)) throw new Error(`--topology=${values.topology} is not valid: expected both, exporter or graphite`);
  if (!Number.isInteger(rate) || rate < 1) throw new Error(`--rate=${values.rate} is not valid: expected a whole number of requests per second`);
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`--seconds=${values.seconds} is not valid: expected a whole number of seconds`);
  console.log(`bench:pipeline: ${rate} requests/s on / for ${seconds} s per topology`);
  if (values.topology !== "graphite") await exporter(rate, seconds);
  if (values.topology !== "exporter") await graphite(rate, seconds);
}

void main().catch((err: unknown) => {
  console.error(`bench:pipeline: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
