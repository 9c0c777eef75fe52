/**
 * statsd OOM-killed inside a deployed graphite-statsd, the same on Docker and Kubernetes: the kernel kills it at the
 * container's memory limit (scripts/checks/oom.ts, one slice at a time, so that nothing else is killed), and runit
 * starts it again in the running container. `exec` runs a command in graphite-statsd's container.
 */
import { waitFor } from "../../app/src/tools/wait";
import { GRAPHITE_MEMORY_LIMIT_MIB, STATSD_COMMAND } from "../../pipeline/graphite";
import { oomKillProcessScript, pidOfCommand } from "../../scripts/checks/oom";

type Exec = (...cmd: string[]) => Promise<string>;

/**
 * The OOM kills the kernel has counted in the container's memory cgroup (cgroup v2's memory.events, or v1's
 * memory.oom_control): the kernel's own record, on either platform.
 */
async function oomKills(exec: Exec): Promise<number> {
  const text = await exec("sh", "-c", "cat /sys/fs/cgroup/memory.events 2>/dev/null || cat /sys/fs/cgroup/memory/memory.oom_control");
  const match = /^oom_kill (\d+)$/m.exec(text);
  if (!match) throw new Error(`no oom_kill count in the container's memory cgroup:\n${text}`);
  return Number(match[1]);
}

/** What {@link oomKillStatsd} saw: how many OOM kills the kernel counted meanwhile, and whether statsd runs under a new PID. */
export interface StatsdOomKill {
  readonly oomKills: number;
  readonly statsdRestarted: boolean;
}

/** Has the kernel OOM-kill statsd, and waits (at most 30 s; runit restarts a service after 1 s) for it to run again. */
export async function oomKillStatsd(exec: Exec): Promise<StatsdOomKill> {
  const pid = async () => (await exec("sh", "-c", `echo ${pidOfCommand(STATSD_COMMAND)}`)).trim();
  const [killsBefore, before] = [await oomKills(exec), await pid()];
  if (before === "") throw new Error(`no process running ${STATSD_COMMAND} in graphite-statsd`);
  // The allocators end with statsd: the exec returns once it is gone.
  await exec("sh", "-c", oomKillProcessScript(GRAPHITE_MEMORY_LIMIT_MIB * 1024 * 1024, pidOfCommand(STATSD_COMMAND)));
  let after = "";
  await waitFor(async () => !["", before].includes((after = await pid())), 30_000, 500);
  return { oomKills: (await oomKills(exec)) - killsBefore, statsdRestarted: after !== "" && after !== before };
}
