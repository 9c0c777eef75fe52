/**
 * Finds the real programs the pipeline tests run. On a developer's laptop a missing one skips the test with the
 * reason; under CI (see {@link underCi}) it is a failure, never a silent skip.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Whether the tests run under CI, where a test that needs a missing tool fails instead of skipping. CI systems set
 * CI to different values (GitHub Actions and GitLab `true`, others `1` or `yes`): any value counts except unset, the
 * empty string, `0` and `false` (in any case, surrounding spaces ignored), which a developer sets to mean "not CI".
 */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? "").trim().toLowerCase();
  return value !== "" && value !== "0" && value !== "false";
}

/** Where test/images/build.sh keeps the Go binaries it builds (the same ones the images contain). */
const TOOLS = process.env.STATSD_STACK_TOOLS ?? path.join(os.homedir(), ".cache", "statsd-stack-tools");

const SEARCH = [
  path.join(TOOLS, "prometheus", "v3.13.5", "bin"),
  path.join(TOOLS, "statsd_exporter", "v0.30.0", "bin"),
  path.join(TOOLS, "alertmanager", "v0.35.0", "bin"),
  path.join(os.homedir(), "go", "bin"),
  ...(process.env.GOBIN ? [process.env.GOBIN] : []),
  ...(process.env.PATH ?? "").split(path.delimiter),
];

export function findBinary(name: string): string | undefined {
  for (const dir of SEARCH) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The binary's path, or a skip reason for `it(..., { skip })`; throws under CI when it is missing. With `version`,
 * a binary whose `--version` output does not contain it counts as missing (another major version proves nothing).
 */
export function requireBinary(name: string, install: string, version?: string): { path: string; skip: false } | { path: ""; skip: string } {
  const found = findBinary(name);
  const printed = found && version ? versionOf(found) : "";
  if (found && (!version || printed.includes(version))) return { path: found, skip: false };
  const reason = found
    ? `${found} is not version ${version} (it says: ${printed.split("\n")[0]}); install: ${install}`
    : `${name} not found (install: ${install})`;
  if (underCi()) throw new Error(`CI=${process.env.CI} and ${reason}`);
  return { path: "", skip: reason };
}

/** What `binary --version` prints, on either stream. */
function versionOf(binary: string): string {
  const run = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return `${run.stdout ?? ""}${run.stderr ?? ""}`;
}
