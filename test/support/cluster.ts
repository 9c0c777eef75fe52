/** A real Kubernetes cluster as the deployment tests see it, through kubectl and the cluster's KUBECONFIG. */
import { existsSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../app/src/tools/wait";
import { mustRun, runCommand } from "../../scripts/local/processes";
import { oomKillScript } from "./oom";

export function kubectl(...args: string[]): Promise<string> {
  return mustRun("kubectl", args);
}

export async function kubectlJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await kubectl(...args, "-o", "json")) as T;
}

/** The current context's name: what `kubeContext` must be set to. */
export async function currentContext(): Promise<string> {
  return (await kubectl("config", "current-context")).trim();
}

/**
 * The runtime scripts (k8s-up.sh, import-image.sh, ...) that make this machine's cluster: `STATSD_STACK_RUNTIME`,
 * or ../shared/tools/runtime beside the repository, or /work/shared/tools/runtime.
 */
export function runtimeTools(): string | undefined {
  const candidates = [
    process.env.STATSD_STACK_RUNTIME,
    path.join(__dirname, "..", "..", "..", "shared", "tools", "runtime"),
    "/work/shared/tools/runtime",
  ].filter((d): d is string => d !== undefined && d !== "");
  return candidates.find((d) => existsSync(path.join(d, "import-image.sh")));
}

export interface PodState {
  readonly name: string;
  /** A StatefulSet's new pod has its predecessor's name: the uid tells them apart. */
  readonly uid: string;
  readonly app: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly restarts: number;
  /** The pod's address ("" before it has one). */
  readonly ip: string;
  /** Each container as `name ready|not ready`: native sidecars (init containers that keep running) first. */
  readonly containers: readonly string[];
}

export async function pods(namespace: string): Promise<PodState[]> {
  const list = await kubectlJson<{
    items: Array<{
      metadata: { name: string; uid: string; labels: Record<string, string>; deletionTimestamp?: string };
      status: {
        phase: string;
        podIP?: string;
        containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number }>;
        initContainerStatuses?: Array<{ name: string; ready: boolean }>;
      };
    }>;
  }>("get", "pods", "-n", namespace);
  return list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      app: p.metadata.labels["app.kubernetes.io/name"] ?? "",
      phase: p.status.phase,
      ready: (p.status.containerStatuses ?? []).every((c) => c.ready) && (p.status.containerStatuses ?? []).length > 0,
      restarts: (p.status.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
      ip: p.status.podIP ?? "",
      containers: [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].map((c) => `${c.name} ${c.ready ? "ready" : "not ready"}`),
    }))
    .sort((a, b) => a.app.localeCompare(b.app));
}

/** The ReplicaSets of each Deployment of a namespace, by the Deployment's app name. */
export async function replicaSets(namespace: string): Promise<Record<string, string[]>> {
  const list = await kubectlJson<{ items: Array<{ metadata: { name: string; labels: Record<string, string> } }> }>("get", "replicasets", "-n", namespace);
  const byApp: Record<string, string[]> = {};
  for (const rs of list.items) (byApp[rs.metadata.labels["app.kubernetes.io/name"] ?? ""] ??= []).push(rs.metadata.name);
  for (const names of Object.values(byApp)) names.sort();
  return byApp;
}

/** What a pod's main process runs as: uid and gid from /proc/1/status, and whether / is mounted read-only. */
export async function processIdentity(namespace: string, pod: string): Promise<{ uid: number; gid: number; readOnlyRoot: boolean }> {
  const status = await kubectl("exec", "-n", namespace, pod, "--", "cat", "/proc/1/status");
  const mounts = await kubectl("exec", "-n", namespace, pod, "--", "cat", "/proc/1/mounts");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1]);
  const root = mounts.split("\n").map((l) => l.split(" ")).find((f) => f[1] === "/");
  return { uid: field("Uid"), gid: field("Gid"), readOnlyRoot: (root?.[3] ?? "").split(",").includes("ro") };
}

/**
 * Waits until no pod of the namespace is terminating. `pulumi up` returns once a Deployment's new pods are ready
 * and the old ones are told to stop; Services stop routing to the old ones a moment later (EndpointSlices, then
 * kube-proxy), and meanwhile they keep serving through their preStop drain. Once they are gone, every new
 * connection reaches the new version.
 */
export async function waitForOldPods(namespace: string, timeoutMs = 120_000): Promise<void> {
  const noneTerminating = async () => {
    const list = await kubectlJson<{ items: Array<{ metadata: { deletionTimestamp?: string } }> }>("get", "pods", "-n", namespace);
    return list.items.every((p) => p.metadata.deletionTimestamp === undefined);
  };
  if (!(await waitFor(noneTerminating, timeoutMs, 500))) throw new Error(`pods of ${namespace} were still terminating after ${timeoutMs} ms`);
}

/** One container of a pod as the kubelet reports it, native sidecars (restartable init containers) included. */
export interface ContainerState {
  readonly ready: boolean;
  readonly restartCount: number;
  /** Why its previous run ended (`OOMKilled`, `Error`, ...): "" when it has not ended yet. */
  readonly lastTerminationReason: string;
}

export async function containerState(namespace: string, pod: string, container: string): Promise<ContainerState> {
  type Status = { name: string; ready: boolean; restartCount: number; lastState?: { terminated?: { reason?: string } } };
  const { status } = await kubectlJson<{ status: { containerStatuses?: Status[]; initContainerStatuses?: Status[] } }>("get", "pod", "-n", namespace, pod);
  const found = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].find((c) => c.name === container);
  if (!found) throw new Error(`pod ${namespace}/${pod} has no container ${container}`);
  return { ready: found.ready, restartCount: found.restartCount, lastTerminationReason: found.lastState?.terminated?.reason ?? "" };
}

/** OOM-kills the main process of a pod's container whose memory limit is `limitBytes` (see ./oom). */
export async function oomKillInPod(namespace: string, pod: string, container: string, limitBytes: number): Promise<void> {
  // The exec dies with the container: its exit status says nothing; the container's restart and reason do.
  await runCommand("kubectl", ["exec", "-n", namespace, pod, "-c", container, "--", "sh", "-c", oomKillScript(limitBytes)], { timeoutMs: 60_000 });
}
