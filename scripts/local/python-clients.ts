/**
 * The third-party Python StatsD clients the local tier sends a team's own metrics with, installed outside the
 * repository by scripts/local/install-python-clients.sh at the versions pinned in python-clients.txt. Like
 * {@link requireBinary}: a missing client (or Python, or another version) skips the test on a laptop and fails it
 * under CI.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { underCi } from "./binaries";

const INSTALL = "scripts/local/install-python-clients.sh";

/** Where the install script puts the clients; the same default and environment as the script. */
export const PYTHON_CLIENTS_DIR =
  process.env.STATSD_STACK_PYTHON_CLIENTS ??
  path.join(process.env.STATSD_STACK_TOOLS ?? path.join(os.homedir(), ".cache", "statsd-stack-tools"), "python-clients");

/** The pins of python-clients.txt: package name to version. */
export function pinnedPythonClients(): Map<string, string> {
  const text = readFileSync(path.join(__dirname, "python-clients.txt"), "utf8");
  const pins = new Map<string, string>();
  for (const line of text.split("\n")) {
    const pin = /^([A-Za-z0-9_.-]+)==(\S+)$/.exec(line.trim());
    if (pin) pins.set(pin[1]!, pin[2]!);
  }
  return pins;
}

export interface PythonClient {
  readonly python: string;
  /** The environment to run a script with the client importable, and nothing else: no DD_* variable of this shell
   * (the datadog client reads DD_DOGSTATSD_URL, DD_ENV, DATADOG_TAGS... and would send elsewhere or add tags). */
  readonly env: Record<string, string>;
  readonly version: string;
}

/**
 * The pinned client `name` (a PyPI package of python-clients.txt, imported as `module`), or a skip reason for
 * `it(..., { skip })`; throws under CI when it is missing or of another version.
 */
export function requirePythonClient(
  name: string,
  module: string,
): (PythonClient & { skip: false }) | { python: ""; env: Record<string, string>; version: ""; skip: string } {
  const pinned = pinnedPythonClients().get(name);
  if (!pinned) throw new Error(`${name} is not pinned in scripts/local/python-clients.txt`);
  const python = process.env.PYTHON ?? "python3";
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PYTHONPATH: PYTHON_CLIENTS_DIR, PYTHONDONTWRITEBYTECODE: "1" };
  const run = spawnSync(python, ["-c", `import ${module}; print(${module}.__version__)`], { encoding: "utf8", env, timeout: 20_000 });
  const version = (run.stdout ?? "").trim();
  if (run.status === 0 && version === pinned) return { python, env, version, skip: false };
  const found = run.error ? `${python} not found` : run.status === 0 ? `${name} ${version} found, not ${pinned}` : `${name} not importable (${(run.stderr ?? "").trim().split("\n").at(-1)})`;
  const reason = `${found} in ${PYTHON_CLIENTS_DIR} (install: ${INSTALL})`;
  if (underCi()) throw new Error(`CI=${process.env.CI} and ${reason}`);
  return { python: "", env: {}, version: "", skip: reason };
}
