/**
 * Ingest capacity of a deployed stack's StatsD port for clients that send one line per datagram (a benchmark: it
 * prints figures, it asserts nothing). Run it on an otherwise idle machine, in the project folder:
 *
 *   npm run bench:ingest -- --stack exporter
 *   npm run bench:ingest -- --stack graphite --rates 100000,200000 --seconds 5 --defaults
 *
 * For each rate it sends `seconds` of single-line counter datagrams (`bench_ingest.<run>.r<rate>:1|c`) to the
 * stack's StatsD endpoint with scripts/bench/udp-flood.c (compiled with `cc` on first use), waits until the count
 * settles, and prints: datagrams sent, lines counted (statsd_exporter's /metrics; Graphite's stats_counts after the
 * flushes), lost, the kernel's UDP receive-buffer errors (RcvbufErrors) in the daemon's network namespace and in this
 * machine's (where Docker's userland proxy receives a published UDP port), the daemon's own drops, and the receive
 * buffer the daemon's socket holds (`ss -m`: twice what was granted). The last line is the highest rate with no loss.
 *
 * `--from host,netns` chooses where the sender runs: `host` (the default) sends to the published port from this
 * machine, as a team's service here would, through Docker's port publishing or the NodePort; `netns` sends from inside
 * the daemon's own network namespace to its container port, the way the stack's app reaches it over the network
 * minus the bridge: the daemon's own capacity under its container's limits, without the path's cost.
 *
 * `--defaults` (Docker only) also starts the same image with the daemon's own defaults and the deployed container's
 * CPU and memory limits, published on 127.0.0.1, and measures it in the same run, rate by rate: the difference is the
 * program's settings alone. Both daemons' counts are exact for this: each line is a counter increment of 1.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { waitFor } from "../app/src/tools/wait";
import { getJson, metricsTextTotal, sumPoints, type GraphiteSeries } from "./checks/backends";
import { readStackOutputs } from "./checks/stack-outputs";
import { udpReceiveBuffer } from "./local/sockets";

const { values } = parseArgs({
  options: {
    stack: { type: "string" },
    outputs: { type: "string" },
    rates: { type: "string", default: "50000,100000,150000,200000" },
    seconds: { type: "string", default: "5" },
    defaults: { type: "boolean", default: false },
    namespace: { type: "string" },
    "container-prefix": { type: "string" },
    from: { type: "string", default: "host" },
  },
});

const outputs = readStackOutputs(values.stack, values.outputs) as Record<string, string>;
const topology = outputs.topology as "graphite" | "exporter";
const platform = outputs.platform as "docker" | "kubernetes";
const RATES = values.rates!.split(",").map(Number);
const SECONDS = Number(values.seconds);
const RUN = Date.now().toString(36);
const FROM = values.from!.split(",") as Array<"host" | "netns">;
const DAEMON = { exporter: "statsd-exporter", graphite: "graphite" }[topology];
const STATSD_CONTAINER_PORT = { exporter: 9125, graphite: 8125 }[topology];
if (RATES.some((r) => !Number.isInteger(r) || r <= 0) || !(SECONDS > 0)) throw new Error("--rates: whole numbers above 0, comma-separated; --seconds: above 0");
if (FROM.some((f) => f !== "host" && f !== "netns")) throw new Error(`--from: host, netns or both (comma-separated), not ${values.from}`);
if (values.defaults && platform !== "docker") throw new Error("--defaults runs the image on Docker: use it with a stack deployed on Docker");

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sender, compiled once per version of its source into the tools cache. */
function sender(): string {
  const source = path.join(__dirname, "bench", "udp-flood.c");
  const hash = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 12);
  const dir = path.join(process.env.STATSD_STACK_TOOLS ?? path.join(os.homedir(), ".cache", "statsd-stack-tools"), "bench");
  const binary = path.join(dir, `udp-flood-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const cc = spawnSync("cc", ["-O2", "-o", binary, source], { encoding: "utf8" });
    if (cc.error || cc.status !== 0) throw new Error(`bench:ingest needs a C compiler (cc) for its sender: ${cc.error?.message ?? cc.stderr}`);
  }
  return binary;
}

/** The kernel's UDP counters of the network namespace `pid` is in (this machine's: `self`). */
function udpCounters(pid: string): { RcvbufErrors: number; InErrors: number } {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, "utf8").split("\n").filter((l) => l.startsWith("Udp:"));
  const [names, nums] = lines.map((l) => l.split(/\s+/).slice(1));
  const get = (k: string) => Number(nums![names!.indexOf(k)]);
  return { RcvbufErrors: get("RcvbufErrors"), InErrors: get("InErrors") };
}

/** `read()` once two reads `everyMs` apart agree (a count that stopped moving), or its last value after `timeoutMs`. */
async function settledValue(read: () => Promise<number>, timeoutMs: number, everyMs: number): Promise<number> {
  let last = -1;
  let value = 0;
  await waitFor(
    async () => {
      value = await read();
      const settled = value === last;
      last = value;
      return settled;
    },
    timeoutMs,
    everyMs,
  );
  return value;
}

/** A process of a Kubernetes pod, found by the pod's UID in its cgroup path (any of its processes: one netns). */
function podPid(namespace: string, app: string): string {
  const uid = run("kubectl", ["get", "pods", "-n", namespace, "-l", `app.kubernetes.io/name=${app}`, "-o", "jsonpath={.items[0].metadata.uid}"]);
  const needles = [uid, uid.replace(/-/g, "_")];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
      if (needles.some((n) => cgroup.includes(n))) return pid;
    } catch {
      // The process exited while listed.
    }
  }
  throw new Error(`no process of pod ${app} (uid ${uid}) in ${namespace} on this machine: run bench:ingest on the node`);
}

/** One StatsD receiver to measure: where to send, how to count a name, and where its kernel counters are. */
interface Target {
  readonly label: string;
  readonly port: number;
  readonly pid: string;
  /** Lines counted for `name` (a dotted StatsD name), once settled. */
  counted(name: string, sentFrom: number): Promise<number>;
  /** The daemon's own count of datagrams it dropped (statsd_exporter's queue); undefined where it keeps none. */
  ownDrops(): Promise<number | undefined>;
}

function exporterTarget(label: string, port: number, metricsUrl: string, pid: string): Target {
  const text = async () => (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  return {
    label,
    port,
    pid,
    async counted(name) {
      const metric = name.replace(/\./g, "_");
      // statsd_exporter counts as it reads (nothing is batched): reads a second apart.
      return settledValue(async () => metricsTextTotal(await text(), metric), 30_000, 1000);
    },
    async ownDrops() {
      return metricsTextTotal(await text(), "statsd_exporter_udp_packet_drops_total");
    },
  };
}

function graphiteTarget(label: string, port: number, renderUrl: string, pid: string): Target {
  return {
    label,
    port,
    pid,
    async counted(name, sentFrom) {
      // statsd flushes every 10 s and graphite-web caches a render for 60 s by its parameters: each read asks up to
      // a new `until`, and the count is settled when two reads 5 s apart, both after two flushes, agree.
      await sleep(22_000);
      const read = async () => {
        const params = new URLSearchParams({ target: `stats_counts.${name}`, from: String(sentFrom - 30), until: String(Math.floor(Date.now() / 1000) + 60), format: "json" });
        return sumPoints(await getJson<GraphiteSeries[]>(`${renderUrl}?${params}`));
      };
      return settledValue(read, 60_000, 5000);
    },
    async ownDrops() {
      return undefined;
    },
  };
}

/** The stack's own receiver, with the program's settings. */
function programTarget(): Target {
  const port = Number(outputs.statsdEndpoint!.split(":").at(-1));
  const pid =
    platform === "docker"
      ? run("docker", ["inspect", "-f", "{{.State.Pid}}", `${values["container-prefix"] ?? `statsd-stack-${values.stack}-`}${DAEMON}-0`])
      : podPid(values.namespace ?? `statsd-stack-${values.stack}`, DAEMON);
  return topology === "exporter"
    ? exporterTarget("program's settings", port, outputs.exporterMetricsUrl!, pid)
    : graphiteTarget("program's settings", port, `${outputs.graphiteUrl}/render`, pid);
}

/** The same image on its own defaults, under the deployed container's CPU and memory limits (Docker only). */
async function defaultsTarget(): Promise<{ target: Target; stop: () => void }> {
  const deployed = `${values["container-prefix"] ?? `statsd-stack-${values.stack}-`}${DAEMON}-0`;
  const [image, nanoCpus, memory] = run("docker", ["inspect", "-f", "{{.Config.Image}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", deployed]).split(" ");
  const name = `statsd-stack-bench-defaults-${DAEMON}`;
  spawnSync("docker", ["rm", "-f", name]);
  const webPort = topology === "exporter" ? 9102 : 80;
  const limits = [...(Number(nanoCpus) > 0 ? ["--cpus", String(Number(nanoCpus) / 1e9)] : []), ...(Number(memory) > 0 ? ["--memory", memory!] : [])];
  run("docker", ["run", "-d", "--name", name, ...limits, "-p", `127.0.0.1::${STATSD_CONTAINER_PORT}/udp`, "-p", `127.0.0.1::${webPort}/tcp`, image!]);
  const stop = () => void spawnSync("docker", ["rm", "-f", name]);
  const hostPort = (p: string) => Number(run("docker", ["port", name, p]).split("\n")[0]!.split(":").at(-1));
  const udp = hostPort(`${STATSD_CONTAINER_PORT}/udp`);
  const web = `http://127.0.0.1:${hostPort(`${webPort}/tcp`)}`;
  const pid = run("docker", ["inspect", "-f", "{{.State.Pid}}", name]);
  const ready = topology === "exporter" ? `${web}/-/healthy` : `${web}/render?target=stats_counts.statsd.metrics_received&format=json`;
  const up = await waitFor(async () => (await fetch(ready, { signal: AbortSignal.timeout(5000) }).catch(() => undefined))?.ok === true, 180_000, 2000);
  if (!up) {
    stop();
    throw new Error(`${image} on its defaults did not answer ${ready} within 180 s`);
  }
  const target =
    topology === "exporter" ? exporterTarget("daemon's defaults", udp, `${web}/metrics`, pid) : graphiteTarget("daemon's defaults", udp, `${web}/render`, pid);
  return { target, stop };
}

interface Row {
  readonly rate: number;
  readonly from: "host" | "netns";
  readonly target: string;
  readonly sent: number;
  readonly sentPerSecond: number;
  readonly counted: number;
  readonly lost: number;
  readonly lostPercent: string;
  readonly daemonRcvbufErrors: number;
  readonly hostRcvbufErrors: number;
  readonly ownDrops: number | string;
  readonly receiveBuffer: number | string;
}

async function measure(target: Target, rate: number, from: "host" | "netns", flood: string): Promise<Row> {
  const name = `bench_ingest.${RUN}.${target.label.startsWith("program") ? "program" : "defaults"}.${from}.r${rate}`;
  const daemonBefore = udpCounters(target.pid);
  const hostBefore = udpCounters("self");
  const dropsBefore = await target.ownDrops();
  const sentFrom = Math.floor(Date.now() / 1000);
  const floodArgs = [String(from === "host" ? target.port : STATSD_CONTAINER_PORT), String(rate), String(SECONDS), `${name}:1|c`];
  const result = JSON.parse(from === "host" ? run(flood, floodArgs) : run("nsenter", ["-t", target.pid, "-n", flood, ...floodArgs])) as {
    sent: number;
    seconds: number;
    sendErrors: number;
  };
  const counted = await target.counted(name, sentFrom);
  const daemonAfter = udpCounters(target.pid);
  const hostAfter = udpCounters("self");
  const dropsAfter = await target.ownDrops();
  const lost = result.sent - counted;
  return {
    rate,
    from,
    target: target.label,
    sent: result.sent,
    sentPerSecond: Math.round(result.sent / result.seconds),
    counted,
    lost,
    lostPercent: ((100 * lost) / result.sent).toFixed(2),
    daemonRcvbufErrors: daemonAfter.RcvbufErrors - daemonBefore.RcvbufErrors,
    hostRcvbufErrors: hostAfter.RcvbufErrors - hostBefore.RcvbufErrors,
    ownDrops: dropsBefore === undefined || dropsAfter === undefined ? "-" : dropsAfter - dropsBefore,
    receiveBuffer: udpReceiveBuffer(STATSD_CONTAINER_PORT, target.pid) ?? "?",
  };
}

async function main(): Promise<void> {
  const flood = sender();
  const targets: Target[] = [programTarget()];
  const defaults = values.defaults ? await defaultsTarget() : undefined;
  if (defaults) targets.push(defaults.target);
  const rows: Row[] = [];
  try {
    console.log(`bench:ingest ${values.stack} (${topology} on ${platform}): ${SECONDS} s per rate, one line per datagram, run ${RUN}`);
    for (const from of FROM) {
      for (const rate of RATES) {
        for (const target of targets) {
          const row = await measure(target, rate, from, flood);
          rows.push(row);
          console.log(JSON.stringify(row));
        }
      }
    }
  } finally {
    defaults?.stop();
  }
  console.log("\n| from | lines/s | receiver | sent | counted | lost | lost % | RcvbufErrors (daemon netns) | RcvbufErrors (host netns) | daemon's own drops | socket rb |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.from} | ${r.rate.toLocaleString("en")} (sent at ${r.sentPerSecond.toLocaleString("en")}) | ${r.target} | ${r.sent} | ${r.counted} | ${r.lost} | ${r.lostPercent} | ${r.daemonRcvbufErrors} | ${r.hostRcvbufErrors} | ${r.ownDrops} | ${r.receiveBuffer} |`);
  }
  for (const from of FROM) {
    for (const target of targets) {
      const clean = rows.filter((r) => r.from === from && r.target === target.label && r.lost === 0).map((r) => r.rate);
      console.log(`highest rate with no loss, from ${from}, ${target.label}: ${clean.length ? Math.max(...clean).toLocaleString("en") : "none of those tried"} lines/s`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(`bench:ingest: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
