/**
 * What restarting one service of a deployed Docker stack costs the counts (a benchmark: it prints figures, it
 * asserts nothing). About 2 minutes per case:
 *
 *   npm run bench:faults -- --stack exporter
 *   npm run bench:faults -- --stack graphite --rate 50 --seconds 60 --cases graphite,grafana
 *
 * It reads the stack's outputs (`pulumi stack output --json --stack NAME`, or `--outputs FILE`), then for each case
 * sends GET / to the API at a fixed rate for `--seconds`, restarts the case's container a third of the way in with
 * `docker restart` (the container's own stop timeout), and once the backend's count has settled prints: requests
 * sent, answered 200, counted by the backend, lost, how long until the service was healthy again (from the
 * restart; Docker checks health every 10 s, so the service answered sooner), and whether the counts stored before the case were still the same afterwards. The case `none`
 * restarts nothing: the baseline. Run it on an otherwise idle stack; other traffic would be counted too.
 *
 * On Kubernetes (`--namespace NS`, the stack's namespace, with kubectl's current context) a case deletes the
 * service's pod (`kubectl delete pod`, its grace period) and waits until the Deployment's new pod is ready; "healthy
 * again after" is then the new pod's readiness, and the backends' data is on their volume claims (`storage:
 * persistent`), so the counts stored before should be unchanged.
 *
 * The case `docker-daemon` restarts the Docker daemon itself with `--daemon-restart-command` (a shell command: how
 * this machine's dockerd is restarted, e.g. `sudo systemctl restart docker`), then waits until every container of the
 * stack is running and healthy again (they come back by their restart policy, unless Docker runs with
 * `"live-restore": true`, when they keep running). It is never in the default cases.
 *
 * The cases `oom:statsd-exporter`, `oom:prometheus` (exporter stack), `oom:statsd` and `oom:carbon` (graphite stack)
 * have the kernel OOM-kill the service as if it had outgrown its container's memory limit (scripts/checks/oom.ts,
 * Docker only): statsd_exporter's and Prometheus's container is restarted by its policy; statsd and carbon are
 * processes under graphite-statsd's runit, which starts them again in the running container. "Healthy again after"
 * is then until the container is healthy after its restart, or the service runs under a new PID. A case fails when
 * Docker saw no OOM kill. They are never in the default cases:
 *
 *   npm run bench:faults -- --stack exporter --cases none,oom:statsd-exporter,oom:prometheus
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { catalog } from "../app/src/metrics/catalog";
import { waitFor } from "../app/src/tools/wait";
import { routeSegment } from "../app/src/metrics/names";
import { CARBON_CACHE_COMMAND, graphitePaths, STATSD_COMMAND } from "../pipeline/graphite";
import { getJson, GraphiteApi, PrometheusApi, sumPoints, type GraphiteSeries } from "./checks/backends";
import { readStackOutputs } from "./checks/stack-outputs";
import { dockerOomEventsArgs, oomKillProcessScript, oomKillScript, pidOfCommand, sawOomEvent } from "./checks/oom";
import { countKey, graphiteCounts, prometheusCounts } from "./checks/traffic";

const { values } = parseArgs({
  options: {
    stack: { type: "string" },
    outputs: { type: "string" },
    rate: { type: "string", default: "50" },
    seconds: { type: "string", default: "60" },
    cases: { type: "string" },
    "container-prefix": { type: "string" },
    "daemon-restart-command": { type: "string" },
    namespace: { type: "string" },
  },
});
const namespace = values.namespace;

const outputs = readStackOutputs(values.stack, values.outputs) as Record<string, string>;
const topology = outputs.topology as "graphite" | "exporter";
const prefix = values["container-prefix"] ?? `statsd-stack-${values.stack}-`;
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const DEFAULT_CASES = { exporter: ["none", "statsd-exporter", "prometheus", "grafana"], graphite: ["none", "graphite", "grafana"] } as const;
const cases = values.cases ? values.cases.split(",") : [...DEFAULT_CASES[topology]];
/**
 * The OOM cases (`oom:<what>`, Docker only): the service's container, and for a service under graphite-statsd's runit
 * the text of its command line (the process is killed, the container keeps running and runit starts it again).
 */
const OOM_TARGETS: Readonly<Record<string, { readonly container: string; readonly command?: string }>> = {
  "statsd-exporter": { container: "statsd-exporter" },
  prometheus: { container: "prometheus" },
  statsd: { container: "graphite", command: STATSD_COMMAND },
  carbon: { container: "graphite", command: CARBON_CACHE_COMMAND },
};
for (const c of cases.filter((c) => c.startsWith("oom:"))) {
  if (!(c.slice(4) in OOM_TARGETS)) throw new Error(`unknown case ${c}: the OOM cases are ${Object.keys(OOM_TARGETS).map((t) => `oom:${t}`).join(", ")}`);
  if (values.namespace !== undefined) throw new Error(`the OOM cases run on Docker only, not with --namespace (${c})`);
}
if (cases.includes("docker-daemon") && !values["daemon-restart-command"]) {
  throw new Error("the case docker-daemon needs --daemon-restart-command: how this machine restarts dockerd");
}
const appName = outputs.appName ?? "sample-api";
const metricPrefix = outputs.metricPrefix ?? "sample_api";
const ROOT_200 = countKey("/", "GET", 200);

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const kubectl = (...args: string[]) => execFileSync("kubectl", ["-n", namespace!, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
/** The Kubernetes workload of a case: its pods carry `app.kubernetes.io/name`, the service's name. */
const KUBERNETES_NAME: Readonly<Record<string, string>> = { "statsd-exporter": "statsd-exporter", prometheus: "prometheus", graphite: "graphite", grafana: "grafana" };

/** Whether the service's pods are all ready and none is terminating (the Deployment's new pod has replaced the old). */
function podsReady(service: string): boolean {
  try {
    const list = JSON.parse(kubectl("get", "pods", "-l", `app.kubernetes.io/name=${KUBERNETES_NAME[service]}`, "-o", "json")) as {
      items: Array<{ metadata: { deletionTimestamp?: string }; status: { containerStatuses?: Array<{ ready: boolean }> } }>;
    };
    return list.items.length > 0 && list.items.every((p) => !p.metadata.deletionTimestamp && (p.status.containerStatuses ?? []).every((c) => c.ready));
  } catch {
    return false;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);

/** Requests to GET / counted by the backend from `fromEpoch` until now (Graphite: points stamped from then on). */
async function counted(fromEpoch: number, untilEpoch?: number): Promise<number> {
  if (topology === "exporter") {
    const prom = new PrometheusApi(outputs.prometheusUrl!);
    if (untilEpoch === undefined) return (await prometheusCounts(prom, catalog.requests.prometheusName, appName, fromEpoch)).get(ROOT_200) ?? 0;
    const expr = `sum(increase(${catalog.requests.prometheusName}{app_name="${appName}",route="/",method="GET",status="200"}[${untilEpoch - fromEpoch}s] anchored))`;
    const body = (await (await fetch(`${outputs.prometheusUrl}/api/v1/query?time=${untilEpoch}&query=${encodeURIComponent(expr)}`)).json()) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    return Number(body.data.result[0]?.value[1] ?? 0);
  }
  const graphite = new GraphiteApi(outputs.graphiteUrl!);
  if (untilEpoch === undefined) return (await graphiteCounts(graphite, metricPrefix, fromEpoch)).get(ROOT_200) ?? 0;
  const params = new URLSearchParams({
    target: `sumSeries(${graphitePaths(metricPrefix).requestCounts}.${routeSegment("/")}.GET.200)`,
    from: String(fromEpoch),
    until: String(untilEpoch),
    format: "json",
  });
  return sumPoints(await getJson<GraphiteSeries[]>(`${outputs.graphiteUrl}/render?${params}`));
}

/** GET / at a fixed rate for `seconds`; resolves with what was sent and what answered 200. */
async function paced(seconds: number): Promise<{ sent: number; ok: number }> {
  const total = RATE * seconds;
  const started = performance.now();
  let ok = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      fetch(`${outputs.apiUrl}/`, { signal: AbortSignal.timeout(10_000) })
        .then(async (r) => {
          await r.arrayBuffer();
          if (r.status === 200) ok++;
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(inFlight);
  return { sent: total, ok };
}

function healthy(container: string): boolean {
  try {
    const state = JSON.parse(docker("inspect", "--format", "{{json .State}}", container)) as { Running: boolean; Health?: { Status: string } };
    return state.Running && (state.Health === undefined || state.Health.Status === "healthy");
  } catch {
    return false;
  }
}

/** The PID of `command` in `container` (from this machine's view of the container: `docker exec`), or "". */
const pidIn = (container: string, command: string) => docker("exec", container, "sh", "-c", `echo ${pidOfCommand(command)}`);

/**
 * Has the kernel OOM-kill the case's process, as if it had outgrown the container's memory limit (scripts/checks/oom.ts),
 * and resolves with the seconds until it is back: the container restarted by its policy and healthy, or the service
 * restarted by runit under a new PID. Throws when Docker saw no OOM kill.
 */
async function oomKill(target: string): Promise<number> {
  const { container: service, command } = OOM_TARGETS[target]!;
  const container = `${prefix}${service}-0`;
  const [limit, user, restarts] = docker("inspect", "--format", "{{.HostConfig.Memory}} {{.Config.User}} {{.RestartCount}}", container).split(" ");
  const since = now() - 1;
  const started = performance.now();
  const before = command ? pidIn(container, command) : "";
  const script = command ? oomKillProcessScript(Number(limit), pidOfCommand(command)) : oomKillScript(Number(limit));
  // The exec dies with a container whose PID 1 is killed: its exit status says nothing; Docker's oom event does.
  try {
    execFileSync("docker", ["exec", ...(user ? ["--user", user] : []), container, "sh", "-c", script], { stdio: "ignore", timeout: 60_000 });
  } catch {
    // see above
  }
  const back = await waitFor(
    async () =>
      healthy(container) &&
      (command ? !["", before].includes(pidIn(container, command)) : docker("inspect", "--format", "{{.RestartCount}}", container) !== restarts),
    300_000,
    500,
  );
  if (!back) throw new Error(`${target} in ${container} not back within 5 minutes`);
  if (!sawOomEvent(docker(...dockerOomEventsArgs(container, since, now() + 1)))) throw new Error(`Docker saw no OOM kill in ${container}: the kernel killed something else, or nothing`);
  return (performance.now() - started) / 1000;
}

/**
 * Restarts the case's container (or, for `docker-daemon`, the Docker daemon; for `oom:<what>`, has the kernel kill
 * it); resolves with the seconds from the restart until it (every container of the stack) is healthy again.
 */
async function restart(service: string): Promise<number> {
  if (service.startsWith("oom:")) return oomKill(service.slice(4));
  const started = performance.now();
  if (namespace !== undefined) {
    if (!(service in KUBERNETES_NAME)) throw new Error(`on Kubernetes the cases are ${Object.keys(KUBERNETES_NAME).join(", ")} (and none)`);
    // Returns once the old pod is gone (its grace period); the Deployment has started the new one meanwhile.
    kubectl("delete", "pod", "-l", `app.kubernetes.io/name=${KUBERNETES_NAME[service]}`, "--wait=true");
    if (!(await waitFor(() => podsReady(service), 300_000, 500))) throw new Error(`${service}'s new pod not ready within 5 minutes`);
    return (performance.now() - started) / 1000;
  }
  let containers: string[];
  if (service === "docker-daemon") {
    containers = docker("ps", "--format", "{{.Names}}", "--filter", `name=^${prefix}`).split("\n").filter(Boolean);
    execFileSync("sh", ["-c", values["daemon-restart-command"]!], { stdio: ["ignore", "ignore", "inherit"] });
  } else {
    containers = [`${prefix}${service}-0`];
    docker("restart", containers[0]!);
  }
  const back = await waitFor(async () => containers.every(healthy), 300_000, 500);
  if (!back) throw new Error(`${containers.filter((c) => !healthy(c)).join(", ")} not healthy again within 5 minutes`);
  return (performance.now() - started) / 1000;
}

async function runCase(service: string) {
  // Whole 10 s slots, so that Graphite's points of the case hold only the case's requests.
  await sleep((10 - (Date.now() / 1000) % 10) * 1000 + 1000);
  const start = now();
  // Graphite returns points from the slot after `from`, and statsd stamps a flush with its own time, so the case's
  // first requests can land in the slot before its start: read from there (the stack is idle between cases).
  const from = topology === "graphite" ? start - 10 : start;
  const historyUntil = start - 20;
  const historyBefore = await counted(historyUntil - 600, historyUntil);
  const load = paced(SECONDS);
  let downSeconds = 0;
  if (service !== "none") {
    await sleep((SECONDS / 3) * 1000);
    downSeconds = await restart(service);
  }
  const { sent, ok } = await load;
  let last = -1;
  let value = await counted(from);
  // Settled: the same reading twice, far enough apart for a new one (statsd flushes every 10 s, Prometheus scrapes
  // every 5 s; graphite-web answers a render from its cache for 60 s).
  const apart = topology === "graphite" ? 65_000 : 20_000;
  for (let i = 0; i < 10 && value !== last; i++) {
    await sleep(apart);
    last = value;
    value = await counted(from);
  }
  const historyAfter = await counted(historyUntil - 600, historyUntil);
  return { service, sent, ok, counted: value, downSeconds, historyBefore, historyAfter };
}

async function main(): Promise<void> {
  const where = namespace === undefined ? "Docker" : `Kubernetes namespace ${namespace} (pods deleted)`;
  console.log(`${topology} stack on ${where}: GET / at ${RATE} requests/s for ${SECONDS} s per case, the restart ${Math.round(SECONDS / 3)} s in`);
  console.log("| restarted | sent | answered 200 | counted | lost | healthy again after | counts before the case |");
  console.log("|---|---|---|---|---|---|---|");
  for (const service of cases) {
    const r = await runCase(service);
    const lost = r.ok - r.counted;
    const history = r.historyAfter === r.historyBefore ? `unchanged (${r.historyBefore})` : `${r.historyBefore} -> ${r.historyAfter}`;
    console.log(
      `| ${r.service} | ${r.sent} | ${r.ok} | ${r.counted} | ${lost} (${((lost / r.ok) * 100).toFixed(1)} %) | ${r.service === "none" ? "-" : `${r.downSeconds.toFixed(1)} s`} | ${history} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
