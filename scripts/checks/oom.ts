/**
 * An OOM kill on demand, as when a container outgrows its memory limit. Processes started in the container (`docker
 * exec`, `kubectl exec`: charged to its memory cgroup) allocate past the limit, after the process to kill was made the
 * OOM killer's choice: `oom_score_adj` 1000, which a process may set for another of its own user (only lowering it
 * needs a capability). The kernel then kills that process, as it would kill a process that grew.
 *
 * Many small allocators, not one big one: the kernel scores a process by its pages plus `oom_score_adj` times the
 * limit's pages / 1000, and an exec'd process inherits the container's `oom_score_adj` (the kubelet gives a Burstable
 * pod's containers 998, near the main process's 1000). The process holding the most pages then wins: one allocator
 * of the whole limit was killed instead of the main process (busybox's httpd on Docker, statsd_exporter on the
 * cluster, both tried here).
 */

/**
 * The shell command (busybox or any POSIX sh with dd) that OOM-kills PID 1 of a container whose memory limit is
 * `limitBytes`: 32 slices of 5 % at once, 160 % of the limit (one holds 6.4 MiB of statsd_exporter's 128 MiB, less
 * than statsd_exporter itself, 12-16 MiB measured here). Each dd reads its slice into one buffer, then blocks writing it
 * to a pipe nobody reads: it holds the slice until the container's end kills it (or, if the kernel chose otherwise,
 * until sleep ends and the caller sees no restart).
 */
export function oomKillScript(limitBytes: number): string {
  const slice = Math.ceil(limitBytes * 0.05);
  return `echo 1000 > /proc/1/oom_score_adj && for i in $(seq 32); do dd if=/dev/zero bs=${slice} count=1 2>/dev/null | sleep 30 & done; wait`;
}

/**
 * A shell expression for the PID of the container's first process whose command line contains `text` (letters,
 * digits, `/`, `.`, `_`, `-`). Its last character is bracketed in the pattern, so that the searching shell, whose own
 * command line holds the pattern, does not find itself.
 */
export function pidOfCommand(text: string): string {
  if (!/^[A-Za-z0-9/._-]{2,}$/.test(text)) throw new Error(`not a command text to search for: ${JSON.stringify(text)}`);
  const pattern = `${text.slice(0, -1)}[${text.slice(-1)}]`;
  return `$(for p in /proc/[0-9]*; do case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in *${pattern}*) echo "\${p#/proc/}"; break;; esac; done)`;
}

/**
 * The shell command that OOM-kills one process of a container that keeps running (a service under the container's
 * own supervisor, such as runit in graphite-statsd), `pid` a shell expression for it. Unlike {@link oomKillScript}
 * the slices are small (1 % of the limit) and come one at a time, 0.1 s apart, and stop once the process is gone;
 * each is released as soon as it is: the process's own memory, more than a slice, is then enough for the allocation
 * the kernel was serving when it killed it, and the kernel kills nothing else. At most 250 slices (250 %), 25 s.
 */
export function oomKillProcessScript(limitBytes: number, pid: string): string {
  const slice = Math.ceil(limitBytes * 0.01);
  const alive = 'kill -0 "$T" 2>/dev/null';
  const hold = `while ${alive}; do sleep 1; done`;
  return [
    `T=${pid}`,
    '[ -n "$T" ] || { echo "no such process" >&2; exit 1; }',
    'echo 1000 > "/proc/$T/oom_score_adj" || exit 1',
    `for i in $(seq 250); do ${alive} || break; dd if=/dev/zero bs=${slice} count=1 2>/dev/null | { ${hold}; } & sleep 0.1; done`,
    "wait",
  ].join("\n");
}

/**
 * `docker events` arguments listing `container`'s `oom` events between two epochs (seconds). Docker's oom event is
 * the proof of a kill: not `State.OOMKilled`, which Docker sets only when the event reaches it before the exit (seen
 * both ways here); and not the number of events, of which the kernel may report several for one kill.
 */
export function dockerOomEventsArgs(container: string, sinceEpoch: number, untilEpoch: number): string[] {
  return ["events", "--since", String(sinceEpoch), "--until", String(untilEpoch), "--filter", `container=${container}`, "--filter", "event=oom", "--format", "{{.Action}}"];
}

/** Whether the output of {@link dockerOomEventsArgs}'s `docker events` holds an oom event. */
export const sawOomEvent = (eventsOutput: string): boolean => eventsOutput.split("\n").some((line) => line.trim() === "oom");
