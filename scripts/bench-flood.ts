/**
 * What a flood of new metric names costs a deployed Docker stack (a benchmark: it prints figures, it asserts
 * nothing). Run it in the project folder, against a stack you deployed with `pulumi up` (Docker platform):
 *
 *   npm run bench:flood -- --stack graphite
 *   npm run bench:flood -- --stack exporter --names 20000 --send-seconds 60 --watch-seconds 120
 *
 * It reads the stack's outputs (`pulumi stack output --json`: topology, statsdEndpoint, graphiteUrl or
 * prometheusUrl and exporterMetricsUrl) and finds its containers by name (`statsd-stack-<stack>-*`). It sends
 * `--names` new counter names, one line per datagram, spread evenly over `--send-seconds`, to the stack's StatsD port,
 * then watches for `--watch-seconds` more. Printed: every container's memory over time against its limit (docker
 * stats), whether one was OOM-killed or restarted (docker inspect), the processes' memory inside graphite-statsd,
 * disk (whisper files and their size; Prometheus's TSDB), and the loss counters (carbon's droppedCreates and
 * cache.overflow; statsd_exporter's drops and errors), before and after.
 */
import { execFileSync } from "node:child_process";
import dgram from "node:dgram";
import { parseArgs } from "node:util";
import { EXPORTER_LOSS_COUNTERS } from "../pipeline/exporter";
import { CARBON_AGENTS } from "../pipeline/graphite";
import { readStackOutputs } from "./checks/stack-outputs";

const { values } = parseArgs({
  options: {
    stack: { type: "string" },
    names: { type: "string", default: "20000" },
    "send-seconds": { type: "string", default: "60" },
    "watch-seconds": { type: "string", default: "120" },
    "sample-seconds": { type: "string", default: "10" },
  },
});
if (!values.stack) throw new Error("usage: npm run bench:flood -- --stack <stack> [--names 20000] [--send-seconds 60] [--watch-seconds 120]");
const STACK = values.stack;
const NAMES = Number(values.names);
const SEND_SECONDS = Number(values["send-seconds"]);
const WATCH_SECONDS = Number(values["watch-seconds"]);
const SAMPLE_SECONDS = Number(values["sample-seconds"]);

const run = (command: string, ...args: string[]) => execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 }).trim();
const docker = (...args: string[]) => run("docker", ...args);
const MIB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MIB).toFixed(0);

const outputs = readStackOutputs(STACK) as Record<string, string>;
const topology = outputs.topology as "graphite" | "exporter";
const [statsdHost, statsdPort] = outputs.statsdEndpoint!.split(":");
const prefix = `statsd-stack-${STACK}`.toLowerCase();
const containers = docker("ps", "-a", "--filter", `name=^${prefix}-`, "--format", "{{.Names}}").split("\n").filter(Boolean).sort();
if (containers.length === 0) throw new Error(`no container named ${prefix}-*: is stack ${STACK} deployed on Docker here?`);
const container = (service: string) => containers.find((c) => c.startsWith(`${prefix}-${service}-`));

/** docker stats' memory (what the kernel would OOM-kill on, page cache it can drop excluded) and limit, in bytes. */
function memory(): Map<string, { used: number; limit: number }> {
  const units: Record<string, number> = { B: 1, KiB: 1024, MiB: MIB, GiB: 1024 * MIB, kB: 1000, MB: 1e6, GB: 1e9 };
  const bytes = (text: string) => {
    const m = /^([\d.]+)\s*([A-Za-z]+)$/.exec(text.trim());
    return m ? Number(m[1]) * (units[m[2]!] ?? NaN) : NaN;
  };
  const out = new Map<string, { used: number; limit: number }>();
  for (const line of docker("stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", ...containers).split("\n")) {
    const [name, usage] = line.split("\t");
    const [used, limit] = usage!.split(" / ");
    out.set(name!, { used: bytes(used!), limit: bytes(limit!) });
  }
  return out;
}

function states(): Map<string, { oomKilled: boolean; restarts: number; status: string }> {
  const out = new Map<string, { oomKilled: boolean; restarts: number; status: string }>();
  for (const line of docker("inspect", "--format", "{{.Name}} {{.State.OOMKilled}} {{.RestartCount}} {{.State.Status}}", ...containers).split("\n")) {
    const [name, oom, restarts, status] = line.replace(/^\//, "").split(" ");
    out.set(name!, { oomKilled: oom === "true", restarts: Number(restarts), status: status! });
  }
  return out;
}

/** RSS of each process in a container, by its command line (the image has no ps that prints it). */
function processes(name: string): string[] {
  const script = 'for p in /proc/[0-9]*; do r=$(awk \'/VmRSS/{print $2}\' $p/status 2>/dev/null); [ -n "$r" ] && echo "$r $(tr "\\0" " " < $p/cmdline | cut -c1-70)"; done';
  return docker("exec", name, "sh", "-c", script)
    .split("\n")
    .map((l) => l.split(" "))
    .filter(([kb]) => Number(kb) > 4096)
    .sort((a, b) => Number(b[0]) - Number(a[0]))
    .map(([kb, ...cmd]) => `${(Number(kb) / 1024).toFixed(0)} MiB ${cmd.join(" ").trim()}`);
}

async function graphiteFigures(): Promise<Record<string, number>> {
  const name = container("graphite")!;
  const [files, kb] = docker("exec", name, "sh", "-c", "find /opt/graphite/storage/whisper -name '*.wsp' | wc -l; du -sk /opt/graphite/storage/whisper | cut -f1").split("\n");
  const figures: Record<string, number> = { whisperFiles: Number(files), whisperMiB: Math.round(Number(kb) / 1024) };
  // carbon's own counts per 10 s report and the lines statsd received, summed over the last hour (the stack's life
  // here); the series statsd holds, at its last flush.
  for (const [key, target] of [
    ["creates", `sumSeries(${CARBON_AGENTS}.creates)`],
    ["droppedCreates", `sumSeries(${CARBON_AGENTS}.droppedCreates)`],
    ["cacheOverflow", `sumSeries(${CARBON_AGENTS}.cache.overflow)`],
    ["statsdLinesReceived", "stats_counts.statsd.metrics_received"],
    ["statsdNumStats", "statsd.numStats"],
  ] as const) {
    const res = await fetch(`${outputs.graphiteUrl}/render?target=${encodeURIComponent(target)}&from=-1h&format=json`);
    const points = ((await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>)[0]?.datapoints ?? [];
    const known = points.map(([v]) => v).filter((v): v is number => v !== null);
    figures[key] = key === "statsdNumStats" ? (known.at(-1) ?? 0) : known.reduce((a, b) => a + b, 0);
  }
  return figures;
}

async function exporterFigures(runId: string): Promise<Record<string, number>> {
  const text = await (await fetch(outputs.exporterMetricsUrl!)).text();
  const sum = (metric: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(metric) && /^[^{ ]+(\{[^}]*\})? /.test(l) && l.split(/[{ ]/)[0] === metric)
      .reduce((a, l) => a + Number(l.split(" ").at(-1)), 0);
  const figures: Record<string, number> = {
    exporterFloodSeries: text.split("\n").filter((l) => l.startsWith(`flood_${runId}_`)).length,
    exporterLines: sum("statsd_exporter_lines_total"),
  };
  for (const metric of EXPORTER_LOSS_COUNTERS) figures[metric.replace("statsd_exporter_", "")] = sum(metric);
  const query = async (q: string) => {
    const body = (await (await fetch(`${outputs.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    return Number(body.data.result[0]?.value[1] ?? NaN);
  };
  figures.headSeries = await query("prometheus_tsdb_head_series");
  figures.blocksMiB = Math.round((await query("prometheus_tsdb_storage_blocks_bytes")) / MIB);
  figures.walMiB = Math.round((await query("prometheus_tsdb_wal_storage_size_bytes")) / MIB);
  const prometheus = container("prometheus");
  if (prometheus) figures.tsdbDiskMiB = Math.round(Number(docker("exec", prometheus, "du", "-sk", "/prometheus").split(/\s/)[0]) / 1024);
  return figures;
}

function sendFlood(runId: string): Promise<{ sent: number; seconds: number }> {
  const socket = dgram.createSocket("udp4");
  const start = Date.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(NAMES, Math.ceil(((Date.now() - start) / (SEND_SECONDS * 1000)) * NAMES));
      while (sent < due) socket.send(`flood.${runId}.name_${sent++}:1|c`, Number(statsdPort), statsdHost);
      if (sent < NAMES) setTimeout(tick, 20);
      else setTimeout(() => (socket.close(), resolve({ sent, seconds: (Date.now() - start) / 1000 })), 100);
    };
    tick();
  });
}

async function main() {
  const runId = `r${Date.now().toString(36)}`;
  const figures = () => (topology === "graphite" ? graphiteFigures() : exporterFigures(runId));
  console.log(`stack ${STACK} (${topology}): ${containers.join(", ")}`);
  const startStates = states();
  const before = await figures();
  console.log("before:", JSON.stringify(before));
  const graphite = container("graphite");
  if (graphite) console.log("graphite-statsd processes before:\n  " + processes(graphite).join("\n  "));

  const peak = new Map<string, { used: number; limit: number }>();
  const first = new Map<string, { used: number; limit: number }>();
  const started = Date.now();
  const sample = () => {
    const mem = memory();
    if (first.size === 0) for (const [name, m] of mem) first.set(name, m);
    for (const [name, m] of mem) if (!peak.has(name) || m.used > peak.get(name)!.used) peak.set(name, m);
    const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
    console.log(`t=${t}s ` + [...mem].map(([name, m]) => `${name.slice(prefix.length + 1).replace(/-0$/, "")} ${mib(m.used)}/${mib(m.limit)} MiB`).join(", "));
  };
  sample();
  const flood = sendFlood(runId);
  let done = false;
  void flood.then(() => (done = true));
  while (!done || Date.now() - started < (SEND_SECONDS + WATCH_SECONDS) * 1000) {
    await new Promise((r) => setTimeout(r, SAMPLE_SECONDS * 1000));
    sample();
  }
  const { sent, seconds } = await flood;
  const after = await figures();
  const endStates = states();
  console.log(`\nsent ${sent} new names in ${seconds.toFixed(1)} s, watched ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  if (graphite) console.log("graphite-statsd processes after:\n  " + processes(graphite).join("\n  "));
  console.log("| container | memory before | peak | limit | OOM-killed | restarts |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const name of containers) {
    const p = peak.get(name);
    const s = endStates.get(name)!;
    console.log(`| ${name} | ${first.has(name) ? mib(first.get(name)!.used) : "?"} MiB | ${p ? mib(p.used) : "?"} MiB | ${p ? mib(p.limit) : "?"} MiB | ${s.oomKilled} | ${s.restarts - (startStates.get(name)?.restarts ?? 0)} (${s.status}) |`);
  }
  console.log("\n| figure | before | after | change |");
  console.log("| --- | --- | --- | --- |");
  for (const key of Object.keys(after)) console.log(`| ${key} | ${before[key]} | ${after[key]} | ${after[key]! - before[key]!} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
