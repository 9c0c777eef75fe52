/**
 * One fault case on a deployed stack, under load: GET / at a fixed rate, one service restarted (Docker: `docker
 * restart`, with the container's stop timeout; Kubernetes: its pod deleted; or the Docker daemon restarted, or an OOM
 * kill), then the backend's count once it has settled, and the counts stored before the case read again. Shared by
 * `npm run bench:faults`, which prints the figures, and the Docker deploy tier, which asserts them.
 */
import { execFileSync } from "node:child_process";
import { catalog } from "../../app/src/metrics/catalog";
import { routeSegment } from "../../app/src/metrics/names";
import { waitFor } from "../../app/src/tools/wait";
import { CARBON_CACHE_COMMAND, graphitePaths, STATSD_COMMAND } from "../../pipeline/graphite";
import { SCRAPE_INTERVAL_SECONDS, STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { getJson, PrometheusApi, sumPoints, type GraphiteSeries } from "./backends";
import { dockerOomEventsArgs, oomKillProcessScript, oomKillScript, pidOfCommand, sawOomEvent } from "./oom";
import { countKey, prometheusCounts } from "./traffic";

/**
 * The OOM cases (`oom:<what>`, Docker only): the service's container, and for a service under graphite-statsd's runit
 * the text of its command line (the process is killed, the container keeps running and runit starts it again).
 */
export const OOM_TARGETS: Readonly<Record<string, { readonly container: string; readonly command?: string }>> = {
  "statsd-exporter": { container: "statsd-exporter" },
  prometheus: { container: "prometheus" },
  statsd: { container: "graphite", command: STATSD_COMMAND },
  carbon: { container: "graphite", command: CARBON_CACHE_COMMAND },
};

/** The Kubernetes workload of a case: its pods carry `app.kubernetes.io/name`, the service's name. */
export const KUBERNETES_NAME: Readonly<Record<string, string>> = { "statsd-exporter": "statsd-exporter", prometheus: "prometheus", graphite: "graphite", grafana: "grafana" };

/**
 * What the service that receives StatsD holds in memory, in seconds of traffic, and so loses when it restarts: statsd
 * its unflushed window (graphite topology), statsd_exporter the increments since Prometheus's last scrape (exporter).
 */
export const HELD_SECONDS = { graphite: STATSD_FLUSH_SECONDS, exporter: SCRAPE_INTERVAL_SECONDS } as const;

export interface FaultRunnerOptions {
  /** The stack's outputs (`pulumi stack output --json`): topology, apiUrl, prometheusUrl or graphiteUrl, appName, metricPrefix. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Docker: the stack's container names before the service's, e.g. `statsd-stack-exporter-`. */
  readonly containerPrefix: string;
  /** Requests per second, and for how long. */
  readonly rate: number;
  readonly seconds: number;
  /** Kubernetes: the stack's namespace (kubectl's current context); the case deletes the service's pod. */
  readonly namespace?: string;
  /** The case `docker-daemon`: a shell command that restarts this machine's dockerd. */
  readonly daemonRestartCommand?: string;
}

export interface FaultCaseResult {
  readonly service: string;
  readonly sent: number;
  /** Requests answered 200. */
  readonly ok: number;
  /** Requests to GET / the backend counted, once settled. */
  readonly counted: number;
  /** Seconds from the restart until the service (for the daemon, every container) was healthy again. */
  readonly downSeconds: number;
  /** When the restart began and when the service was healthy again (epoch ms); undefined for `none`. */
  readonly restartAtMs?: number;
  readonly backAtMs?: number;
  /** When each request was sent (epoch ms), in order. */
  readonly sentAtMs: readonly number[];
  /** The backend's count of the 10 minutes that ended 20 s before the case, read before and after it. */
  readonly historyBefore: number;
  readonly historyAfter: number;
}

/**
 * The most a restart may lose: the requests sent from what the receiving service held (its window before the restart)
 * until it was healthy again. Docker checks health every 10 s, so the service listened sooner: a loose bound, and a
 * sound one.
 */
export function lossBound(result: FaultCaseResult, topology: keyof typeof HELD_SECONDS): number {
  if (result.restartAtMs === undefined || result.backAtMs === undefined) return 0;
  // One second more for the app: it sends a request's metrics once it has answered it.
  const from = result.restartAtMs - (HELD_SECONDS[topology] + 1) * 1000;
  return result.sentAtMs.filter((t) => t >= from && t <= result.backAtMs!).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);
const ROOT_200 = countKey("/", "GET", 200);

export class FaultRunner {
  private readonly topology: "graphite" | "exporter";
  private readonly appName: string;
  private readonly metricPrefix: string;

  constructor(private readonly o: FaultRunnerOptions) {
    this.topology = o.outputs.topology as "graphite" | "exporter";
    this.appName = o.outputs.appName ?? "sample-api";
    this.metricPrefix = o.outputs.metricPrefix ?? "sample_api";
  }

  private docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  }

  private kubectl(...args: string[]): string {
    return execFileSync("kubectl", ["-n", this.o.namespace!, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  }

  /** Whether the service's pods are all ready and none is terminating (the Deployment's new pod has replaced the old). */
  private podsReady(service: string): boolean {
    try {
      const list = JSON.parse(this.kubectl("get", "pods", "-l", `app.kubernetes.io/name=${KUBERNETES_NAME[service]}`, "-o", "json")) as {
        items: Array<{ metadata: { deletionTimestamp?: string }; status: { containerStatuses?: Array<{ ready: boolean }> } }>;
      };
      return list.items.length > 0 && list.items.every((p) => !p.metadata.deletionTimestamp && (p.status.containerStatuses ?? []).every((c) => c.ready));
    } catch {
      return false;
    }
  }

  /**
   * Requests to GET / counted by the backend in the points from `fromEpoch` until `untilEpoch` (default now). Graphite
   * is always asked with an explicit end: graphite-web answers a repeated render from its cache for 60 s.
   */
  async counted(fromEpoch: number, untilEpoch?: number): Promise<number> {
    const { outputs } = this.o;
    if (this.topology === "exporter") {
      const prom = new PrometheusApi(outputs.prometheusUrl!);
      if (untilEpoch === undefined) return (await prometheusCounts(prom, catalog.requests.prometheusName, this.appName, fromEpoch)).get(ROOT_200) ?? 0;
      const expr = `sum(increase(${catalog.requests.prometheusName}{app_name="${this.appName}",route="/",method="GET",status="200"}[${untilEpoch - fromEpoch}s] anchored))`;
      return (await prom.query(expr, untilEpoch))[0]?.value ?? 0;
    }
    const params = new URLSearchParams({
      target: `sumSeries(${graphitePaths(this.metricPrefix).requestCounts}.${routeSegment("/")}.GET.200)`,
      from: String(fromEpoch),
      until: String(untilEpoch ?? now()),
      format: "json",
    });
    return sumPoints(await getJson<GraphiteSeries[]>(`${outputs.graphiteUrl}/render?${params}`));
  }

  /** GET / at a fixed rate for `seconds`; resolves with what was sent (and when) and what answered 200. */
  private async paced(): Promise<{ sent: number; ok: number; sentAtMs: number[] }> {
    const { rate, seconds, outputs } = this.o;
    const total = rate * seconds;
    const started = performance.now();
    const sentAtMs: number[] = [];
    let ok = 0;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      sentAtMs.push(Date.now());
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
    return { sent: total, ok, sentAtMs };
  }

  private healthy(container: string): boolean {
    try {
      const state = JSON.parse(this.docker("inspect", "--format", "{{json .State}}", container)) as { Running: boolean; Health?: { Status: string } };
      return state.Running && (state.Health === undefined || state.Health.Status === "healthy");
    } catch {
      return false;
    }
  }

  /** The PID of `command` in `container` (from this machine's view of the container: `docker exec`), or "". */
  private pidIn(container: string, command: string): string {
    return this.docker("exec", container, "sh", "-c", `echo ${pidOfCommand(command)}`);
  }

  /**
   * Has the kernel OOM-kill the case's process, as if it had outgrown the container's memory limit (./oom.ts), and
   * resolves once it is back: the container restarted by its policy and healthy, or the service restarted by runit
   * under a new PID. Throws when Docker saw no OOM kill.
   */
  private async oomKill(target: string): Promise<void> {
    const { container: service, command } = OOM_TARGETS[target]!;
    const container = `${this.o.containerPrefix}${service}-0`;
    const [limit, user, restarts] = this.docker("inspect", "--format", "{{.HostConfig.Memory}} {{.Config.User}} {{.RestartCount}}", container).split(" ");
    const since = now() - 1;
    const before = command ? this.pidIn(container, command) : "";
    const script = command ? oomKillProcessScript(Number(limit), pidOfCommand(command)) : oomKillScript(Number(limit));
    // The exec dies with a container whose PID 1 is killed: its exit status says nothing; Docker's oom event does.
    try {
      execFileSync("docker", ["exec", ...(user ? ["--user", user] : []), container, "sh", "-c", script], { stdio: "ignore", timeout: 60_000 });
    } catch {
      // see above
    }
    const back = await waitFor(
      async () =>
        this.healthy(container) &&
        (command ? !["", before].includes(this.pidIn(container, command)) : this.docker("inspect", "--format", "{{.RestartCount}}", container) !== restarts),
      300_000,
      500,
    );
    if (!back) throw new Error(`${target} in ${container} not back within 5 minutes`);
    if (!sawOomEvent(this.docker(...dockerOomEventsArgs(container, since, now() + 1)))) {
      throw new Error(`Docker saw no OOM kill in ${container}: the kernel killed something else, or nothing`);
    }
  }

  /**
   * Restarts the case's container (or, for `docker-daemon`, the Docker daemon; for `oom:<what>`, has the kernel kill
   * it); resolves once it (every container of the stack) is healthy again.
   */
  private async restart(service: string): Promise<void> {
    if (service.startsWith("oom:")) return this.oomKill(service.slice(4));
    if (this.o.namespace !== undefined) {
      if (!(service in KUBERNETES_NAME)) throw new Error(`on Kubernetes the cases are ${Object.keys(KUBERNETES_NAME).join(", ")} (and none)`);
      // Returns once the old pod is gone (its grace period); the Deployment has started the new one meanwhile.
      this.kubectl("delete", "pod", "-l", `app.kubernetes.io/name=${KUBERNETES_NAME[service]}`, "--wait=true");
      if (!(await waitFor(() => this.podsReady(service), 300_000, 500))) throw new Error(`${service}'s new pod not ready within 5 minutes`);
      return;
    }
    let containers: string[];
    if (service === "docker-daemon") {
      if (!this.o.daemonRestartCommand) throw new Error("the case docker-daemon needs a command that restarts dockerd");
      containers = this.docker("ps", "--format", "{{.Names}}", "--filter", `name=^${this.o.containerPrefix}`).split("\n").filter(Boolean);
      execFileSync("sh", ["-c", this.o.daemonRestartCommand], { stdio: ["ignore", "ignore", "inherit"] });
    } else {
      containers = [`${this.o.containerPrefix}${service}-0`];
      this.docker("restart", containers[0]!);
    }
    const back = await waitFor(async () => containers.every((c) => this.healthy(c)), 300_000, 500);
    if (!back) throw new Error(`${containers.filter((c) => !this.healthy(c)).join(", ")} not healthy again within 5 minutes`);
  }

  /** The case: the load, the restart a third of the way in, the settled count and the history read again. */
  async runCase(service: string): Promise<FaultCaseResult> {
    const { seconds } = this.o;
    // Whole 10 s slots, so that Graphite's points of the case hold only the case's requests.
    await sleep((10 - ((Date.now() / 1000) % 10)) * 1000 + 1000);
    const start = now();
    // Graphite returns points from the slot after `from`, and statsd stamps a flush with its own time, so the case's
    // first requests can land in the slot before its start: read from there (the stack is idle between cases).
    const from = this.topology === "graphite" ? start - 10 : start;
    const historyUntil = start - 20;
    const historyBefore = await this.counted(historyUntil - 600, historyUntil);
    const load = this.paced();
    let restartAtMs: number | undefined;
    let backAtMs: number | undefined;
    if (service !== "none") {
      await sleep((seconds / 3) * 1000);
      restartAtMs = Date.now();
      await this.restart(service);
      backAtMs = Date.now();
    }
    const { sent, ok, sentAtMs } = await load;
    // Settled: the same reading twice, far enough apart for a new one (statsd flushes every 10 s, Prometheus scrapes
    // every 5 s).
    let last = -1;
    let value = await this.counted(from);
    for (let i = 0; i < 10 && value !== last; i++) {
      await sleep(20_000);
      last = value;
      value = await this.counted(from);
    }
    const historyAfter = await this.counted(historyUntil - 600, historyUntil);
    const downSeconds = restartAtMs === undefined ? 0 : (backAtMs! - restartAtMs) / 1000;
    return { service, sent, ok, counted: value, downSeconds, restartAtMs, backAtMs, sentAtMs, historyBefore, historyAfter };
  }
}
