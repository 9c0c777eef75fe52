/** The sample API's image, built from `app/`, tagged with a hash of exactly what goes into the build. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export const APP_DIR = path.join(__dirname, "..", "app");

/** Inputs of the Docker build (see app/.dockerignore): a change to any of them changes the tag. */
const BUILD_INPUTS = ["Dockerfile", "package.json", "package-lock.json", "tsconfig.json", "src"];
const EXCLUDED = new Set(["src/tools"]);

function files(dir: string, rel: string): string[] {
  if (EXCLUDED.has(rel)) return [];
  const full = path.join(dir, rel);
  if (!statSync(full).isDirectory()) return [rel];
  return readdirSync(full)
    .sort()
    .flatMap((entry) => files(dir, path.posix.join(rel, entry)));
}

/** A short content hash of the app's build inputs: the image tag, stable across machines and checkouts. */
export function appImageTag(dir = APP_DIR): string {
  const hash = createHash("sha256");
  for (const rel of BUILD_INPUTS.flatMap((input) => files(dir, input))) {
    hash.update(rel).update("\0").update(readFileSync(path.join(dir, rel))).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}
