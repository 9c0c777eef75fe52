/** The Docker engine as the deployment tests see it: what exists under a stack's names, read with the docker CLI. */
import { mustRun, runCommand } from "../../scripts/local/processes";
import { dockerOomEventsArgs, oomKillScript, sawOomEvent } from "./oom";

export function docker(...args: string[]): Promise<string> {
  return mustRun("docker", args);
}

export interface ContainerState {
  readonly name: string;
  readonly status: string;
  readonly health?: string;
  readonly image: string;
  readonly user: string;
  readonly readOnly: boolean;
  /** Published ports as `hostIp:hostPort->containerPort/proto`. */
  readonly published: string[];
}

/** Names of the lines `docker <kind> ls` prints, one per line. */
async function names(kind: "container" | "network" | "volume", prefix: string): Promise<string[]> {
  const all = kind === "container" ? ["container", "ls", "--all"] : [kind, "ls"];
  const out = await docker(...all, "--format", kind === "container" ? "{{.Names}}" : "{{.Name}}");
  return out.split("\n").filter((n) => n.startsWith(prefix)).sort();
}

export async function containers(prefix: string): Promise<ContainerState[]> {
  const found = await names("container", prefix);
  if (found.length === 0) return [];
  const inspected = JSON.parse(await docker("container", "inspect", ...found)) as Array<{
    Name: string;
    Config: { User: string; Image: string };
    Image: string;
    State: { Status: string; Health?: { Status: string } };
    HostConfig: { ReadonlyRootfs: boolean; PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
  }>;
  return inspected.map((c) => ({
    name: c.Name.replace(/^\//, ""),
    status: c.State.Status,
    health: c.State.Health?.Status,
    image: c.Config.Image,
    user: c.Config.User,
    readOnly: c.HostConfig.ReadonlyRootfs,
    published: Object.entries(c.HostConfig.PortBindings ?? {}).flatMap(([port, bindings]) =>
      (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${port}`),
    ),
  }));
}

export const networks = (prefix: string) => names("network", prefix);
export const volumes = (prefix: string) => names("volume", prefix);

/** Local images whose repository starts with `prefix`, as `repository:tag`. */
export async function images(prefix: string): Promise<string[]> {
  const out = await docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}");
  return out.split("\n").filter((n) => n.startsWith(prefix)).sort();
}

/** Image pulls the engine recorded between two epoch seconds (a pull that fails is recorded too). */
export async function imagePulls(sinceEpoch: number, untilEpoch: number): Promise<string[]> {
  const out = await docker("events", "--since", String(sinceEpoch), "--until", String(untilEpoch), "--filter", "type=image", "--filter", "event=pull", "--format", "{{.Actor.ID}}");
  return out.split("\n").filter((l) => l !== "");
}

/** The container's ID: the same ID before and after an update means the container was kept. */
export async function containerId(name: string): Promise<string> {
  return (await docker("container", "inspect", "--format", "{{.Id}}", name)).trim();
}

/** Runs `cmd` in a container and returns its output. */
export async function execIn(container: string, ...cmd: string[]): Promise<string> {
  return docker("exec", container, ...cmd);
}

/** OOM-kills the main process of `container` (see test/support/oom.ts), exec'ing as `user`, the main process's. */
export async function oomKill(container: string, user: string, limitBytes: number): Promise<void> {
  // The exec dies with the container: its exit status says nothing; the OOM event and the restart do.
  await runCommand("docker", ["exec", "--user", user, container, "sh", "-c", oomKillScript(limitBytes)], { timeoutMs: 60_000 });
}

/** Whether Docker recorded an OOM kill in `container` since `sinceEpoch` (seconds): its `oom` events. */
export async function oomKilledSince(container: string, sinceEpoch: number): Promise<boolean> {
  return sawOomEvent(await docker(...dockerOomEventsArgs(container, sinceEpoch, Math.ceil(Date.now() / 1000) + 1)));
}

/** How many times Docker's restart policy has restarted `container`. */
export async function restartCount(container: string): Promise<number> {
  return Number(await docker("inspect", "--format", "{{.RestartCount}}", container));
}
