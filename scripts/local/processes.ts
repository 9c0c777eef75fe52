/**
 * Child processes, one way: {@link runCommand} runs a command to its end (the CLIs: pulumi, docker, kubectl, the
 * smoke script); {@link ProcessGroup} runs the daemons of the end-to-end tests: start, wait until ready, keep the
 * last lines of their output for failure messages, and always stop (SIGTERM, then SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import net from "node:net";
import { waitFor } from "../../app/src/tools/wait";

export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last lines the process printed (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** How a command that ran to its end (or was killed at its time limit) ended. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** True when the run was killed for outlasting its time limit. */
  readonly timedOut?: boolean;
}

/** Runs `command` to its end, or kills it after `timeoutMs`; never throws on a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 600_000);
    const done = (code: number | null) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000, timedOut });
    };
    child.on("error", (err) => {
      stderr += `${err.message}\n`;
      done(null);
    });
    child.on("close", done);
  });
}

/** {@link runCommand}, failing with the command's output when it exits non-zero; resolves to its stdout. */
export async function mustRun(command: string, args: readonly string[], options: Parameters<typeof runCommand>[2] = {}): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} ${failureReport(result)}`);
  return result.stdout;
}

/** How many of stdout's last lines a failure report keeps: a CI log shows a failure's first lines, and cuts long ones. */
const REPORT_TAIL_LINES = 80;

/**
 * Why a run failed, cause first: how it ended, then Pulumi's `Diagnostics:` section and stderr, then the end of
 * stdout. A failed `pulumi up` prints its whole preview before the error, and a CI log that shows only the first
 * lines of a long message would show the preview and not the error.
 */
export function failureReport(result: CommandResult): string {
  const ended = result.timedOut ? `was killed after ${result.seconds.toFixed(0)} s (its time limit)` : `exited ${result.code} after ${result.seconds.toFixed(0)} s`;
  const lines = result.stdout.split("\n");
  const start = lines.findIndex((l) => /^Diagnostics:/.test(l));
  // The section runs to the next unindented heading (Outputs:, Resources:, Duration:).
  const end = start < 0 ? -1 : lines.findIndex((l, i) => i > start && /^\S/.test(l));
  const diagnostics = start < 0 ? [] : lines.slice(start, end < 0 ? undefined : end);
  return [
    ended,
    ...(diagnostics.length > 0 ? [diagnostics.join("\n").trimEnd()] : []),
    ...(result.stderr.trim() !== "" ? ["-- stderr --", result.stderr.trimEnd()] : []),
    `-- stdout, last ${REPORT_TAIL_LINES} lines --`,
    lines.slice(-REPORT_TAIL_LINES).join("\n").trimEnd(),
  ].join("\n");
}

const KEEP_LINES = 60;

export class ProcessGroup {
  private readonly running = new Set<RunningProcess>();

  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): RunningProcess {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const handle: RunningProcess = {
      name,
      child,
      output: () => `--- ${name} (last ${lines.length} lines)\n${lines.join("\n")}`,
      stop: async () => {
        this.running.delete(handle);
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(killer);
      },
    };
    this.running.add(handle);
    return handle;
  }

  /** Waits until `url` answers 2xx; throws with the process's output when it does not within `timeoutMs`. */
  async waitHttp(proc: RunningProcess, url: string, timeoutMs = 30_000): Promise<void> {
    const ok = await waitFor(async () => {
      if (proc.child.exitCode !== null) throw new Error("exited");
      return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
    }, timeoutMs, 200);
    if (!ok) throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms\n${proc.output()}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((p) => p.stop()));
  }
}

/** A TCP port free on 127.0.0.1 now. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `n` distinct ports free on 127.0.0.1 now: every listener is held until all have their port, so that the kernel
 * cannot hand one port out twice (as `n` calls of {@link freeTcpPort} can).
 */
export async function freeTcpPorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** A port free for both TCP and UDP on 127.0.0.1 now (statsd_exporter listens on both). */
export async function freeTcpUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freeTcpPort();
    const socket = dgram.createSocket("udp4");
    const free = await new Promise<boolean>((resolve) => {
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      return port;
    }
  }
  throw new Error("no port free for both TCP and UDP after 20 attempts");
}
