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
import { parseArgs } from "node:util";
import { FaultRunner, KUBERNETES_NAME, OOM_TARGETS } from "./checks/faults";
import { readStackOutputs } from "./checks/stack-outputs";

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
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const DEFAULT_CASES = { exporter: ["none", "statsd-exporter", "prometheus", "grafana"], graphite: ["none", "graphite", "grafana"] } as const;
const cases = values.cases ? values.cases.split(",") : [...DEFAULT_CASES[topology]];
for (const c of cases.filter((c) => c.startsWith("oom:"))) {
  if (!(c.slice(4) in OOM_TARGETS)) throw new Error(`unknown case ${c}: the OOM cases are ${Object.keys(OOM_TARGETS).map((t) => `oom:${t}`).join(", ")}`);
  if (namespace !== undefined) throw new Error(`the OOM cases run on Docker only, not with --namespace (${c})`);
}
if (namespace !== undefined) {
  const unknown = cases.filter((c) => c !== "none" && !(c in KUBERNETES_NAME));
  if (unknown.length > 0) throw new Error(`on Kubernetes the cases are ${Object.keys(KUBERNETES_NAME).join(", ")} (and none), not ${unknown.join(", ")}`);
}
if (cases.includes("docker-daemon") && !values["daemon-restart-command"]) {
  throw new Error("the case docker-daemon needs --daemon-restart-command: how this machine restarts dockerd");
}

const runner = new FaultRunner({
  outputs,
  containerPrefix: values["container-prefix"] ?? `statsd-stack-${values.stack}-`,
  rate: RATE,
  seconds: SECONDS,
  namespace,
  daemonRestartCommand: values["daemon-restart-command"],
});

async function main(): Promise<void> {
  const where = namespace === undefined ? "Docker" : `Kubernetes namespace ${namespace} (pods deleted)`;
  console.log(`${topology} stack on ${where}: GET / at ${RATE} requests/s for ${SECONDS} s per case, the restart ${Math.round(SECONDS / 3)} s in`);
  console.log("| restarted | sent | answered 200 | counted | lost | healthy again after | counts before the case |");
  console.log("|---|---|---|---|---|---|---|");
  for (const service of cases) {
    const r = await runner.runCase(service);
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
