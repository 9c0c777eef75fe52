/**
 * An OOM kill on demand, as when a container outgrows its memory limit. Processes started in the container (`docker
 * exec`, `kubectl exec`: charged to its memory cgroup) allocate past the limit, after the container's main process
 * was made the OOM killer's choice: `oom_score_adj` 1000, which a process may set for another of its own user (only
 * lowering it needs a capability). The kernel then kills the main process, as it would kill a process that grew.
 *
 * Many small allocators, not one big one: the kernel scores a process by its pages plus `oom_score_adj` times the
 * limit's pages / 1000, and an exec'd process inherits the container's `oom_score_adj` (the kubelet gives a Burstable
 * pod's containers 998, near the main process's 1000). The process holding the most pages then wins: one allocator
 * of the whole limit was killed instead of the main process (busybox's httpd on Docker, statsd_exporter on the
 * cluster, both tried here). 32 allocators of 5 % of the limit each, 160 % together: each holds 6.4 MiB of
 * statsd_exporter's 128 MiB, less than statsd_exporter itself (12-16 MiB, measured here).
 */
import { mebibytes } from "../../components/platform/docker";
import { EXPORTER_RESOURCES } from "../../components/statsd-exporter";

/** The shell command (busybox or any POSIX sh with dd) that OOM-kills PID 1 of a container whose memory limit is `limitBytes`. */
export function oomKillScript(limitBytes: number): string {
  const slice = Math.ceil(limitBytes * 0.05);
  // Each dd reads its slice into one buffer, then blocks writing it to a pipe nobody reads: it holds the slice until
  // the container's end kills it (or, if the kernel chose otherwise, until sleep ends and the caller sees no restart).
  return `echo 1000 > /proc/1/oom_score_adj && for i in $(seq 32); do dd if=/dev/zero bs=${slice} count=1 2>/dev/null | sleep 30 & done; wait`;
}

/** statsd_exporter's memory limit, in bytes. */
export const EXPORTER_MEMORY_LIMIT_BYTES = mebibytes(EXPORTER_RESOURCES.memoryLimit) * 1024 * 1024;
