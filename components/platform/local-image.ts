/**
 * Images built from a local directory: the sample API's, tagged with a hash of exactly what goes into the build, and
 * the build itself, shared by both platforms (Kubernetes then copies the image into the cluster).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";

export const APP_DIR = path.join(__dirname, "..", "..", "app");

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

/** The local name of a workload's built image: one repository per stack, so each stack removes only its own. */
export function localImageName(namePrefix: string, service: string, tag: string): string {
  return `${namePrefix}/${service}:${tag}`;
}

/**
 * Builds an image from a local context without pushing it, and owns it: `pulumi destroy` (or a rebuild under a new
 * tag) removes it from Docker. docker.Image itself never deletes what it built, so a RemoteImage of the built name
 * with `keepLocally: false` does. Both platforms use it; Kubernetes then copies the image into the cluster.
 */
export function buildLocalImage(prefix: string, imageName: string, context: string, parent: pulumi.Resource): docker.RemoteImage {
  const built = new docker.Image(
    `${prefix}-build`,
    {
      imageName,
      build: { context, dockerfile: `${context}/Dockerfile` },
      skipPush: true,
    },
    { parent },
  );
  return new docker.RemoteImage(`${prefix}-image`, { name: built.imageName, keepLocally: false }, { parent });
}

