/**
 * Finds the real programs the pipeline tests run. On a developer's laptop a missing one skips the test with the
 * reason; under CI=true it is a failure, never a silent skip.
 */
import { accessSync, constants } from "node:fs";
import os from "node:os";
import path from "node:path";

const SEARCH = [
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

/** The binary's path, or a skip reason for `it(..., { skip })`; throws under CI when it is missing. */
export function requireBinary(name: string, install: string): { path: string; skip: false } | { path: ""; skip: string } {
  const found = findBinary(name);
  if (found) return { path: found, skip: false };
  const reason = `${name} not found (install: ${install})`;
  if (process.env.CI === "true") throw new Error(`CI=true and ${reason}`);
  return { path: "", skip: reason };
}
