/**
 * The daemons under the test tiers, as ../shared/tools/runtime started them: docker-up.sh's dockerd and k8s-up.sh's
 * kubelet. A fault test restarts one the way a service manager would, and leaves the runtime's pid file naming the
 * new process, so docker-down.sh / k8s-down.sh stop it as they would have stopped the first.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../app/src/tools/wait";

/** A daemon the runtime scripts recorded: `<pid> <executable>` in its pid file, its output in its log. */
export interface RecordedDaemon {
  readonly pidFile: string;
  readonly logFile: string;
}

const DOCKER_RUN_DIR = process.env.DOCKER_RUN_DIR ?? "/tmp/statsd-stack-docker";
const K8S_RUN_DIR = process.env.K8S_RUN_DIR ?? "/tmp/statsd-stack-k8s";

/** A daemon k8s-up.sh (or a script following its layout) started: `pids/<name>.pid` and `logs/<name>.log` of its run dir. */
function clusterDaemon(name: string): RecordedDaemon {
  return { pidFile: path.join(K8S_RUN_DIR, "pids", `${name}.pid`), logFile: path.join(K8S_RUN_DIR, "logs", `${name}.log`) };
}

export const DOCKERD: RecordedDaemon = { pidFile: path.join(DOCKER_RUN_DIR, "dockerd.pid"), logFile: path.join(DOCKER_RUN_DIR, "dockerd.log") };

export const KUBELET: RecordedDaemon = clusterDaemon("kubelet");

/** test/cluster/local-path-storage.sh's provisioner (its pid file has the runtime's format too). */
export const LOCAL_PATH_PROVISIONER: RecordedDaemon = clusterDaemon("local-path-provisioner");

/** test/cluster/network-policy.sh's kube-router, which enforces NetworkPolicies on the runtime's cluster. */
export const KUBE_ROUTER: RecordedDaemon = clusterDaemon("kube-router");

/** The daemon's pid when its pid file names a live process running the recorded executable; else undefined. */
export function recordedPid(daemon: RecordedDaemon): number | undefined {
  if (!existsSync(daemon.pidFile)) return undefined;
  const [pidText, exe] = readFileSync(daemon.pidFile, "utf8").trim().split(/\s+/);
  const pid = Number(pidText);
  try {
    return readlinkSync(`/proc/${pid}/exe`) === exe ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process has exited (a zombie waiting for its parent counts as exited). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

/**
 * Stops the daemon with SIGTERM, waits until it has exited, and starts the same command line again with the same
 * environment and working directory, its output appended to its log. Returns the new pid (written to the pid file).
 */
export async function restartDaemon(daemon: RecordedDaemon, stopTimeoutMs = 60_000): Promise<number> {
  const pid = recordedPid(daemon);
  if (pid === undefined) throw new Error(`${daemon.pidFile} names no running daemon: was it started by the runtime scripts?`);
  const [, exe] = readFileSync(daemon.pidFile, "utf8").trim().split(/\s+/);
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter((e) => e.includes("="))
      .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  process.kill(pid, "SIGTERM");
  if (!(await waitFor(() => gone(pid), stopTimeoutMs, 200))) throw new Error(`${argv[0]} (pid ${pid}) did not exit within ${stopTimeoutMs} ms of SIGTERM`);
  const log = openSync(daemon.logFile, "a");
  try {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, detached: true, stdio: ["ignore", log, log] });
    if (child.pid === undefined) throw new Error(`${argv[0]} did not start again`);
    child.unref();
    writeFileSync(daemon.pidFile, `${child.pid} ${exe}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}
