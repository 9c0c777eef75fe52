/**
 * What the deployment tier needs before it can run: the Pulumi engine, a Docker daemon, the local stand-in images
 * (test/images/build.sh) and, for Kubernetes, a cluster. A missing piece skips the tier with the reason on a
 * laptop; under CI (any CI value but unset, "", 0 and false: {@link underCi}) it fails the run. Other tests that run containers use the same Docker check
 * ({@link dockerSkip}).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_IMAGES } from "../../pipeline/config-keys";
import { findBinary, underCi } from "../../scripts/local/binaries";
import { KUBELET, recordedPid } from "./daemons";
import { findEngineBin, PulumiProject } from "./pulumi-cli";

/** The Grafana stand-in's image (test/images/grafana): Grafana itself cannot be built or installed here. */
export const GRAFANA_STANDIN = "statsd-stack-test/grafana-standin:13.2.2";

/** Local images the tier deploys: the real software under the pinned names, and the Grafana stand-in. */
export const TIER_IMAGES = [
  DEFAULT_IMAGES.graphiteImage,
  DEFAULT_IMAGES.exporterImage,
  DEFAULT_IMAGES.prometheusImage,
  DEFAULT_IMAGES.alertmanagerImage,
  GRAFANA_STANDIN,
  "node:22-bookworm-slim",
];

export interface Tier {
  /** false when the tier can run; otherwise why not. */
  readonly skip: string | false;
  /** A fresh copy of the project to run the CLI in: this tree, or the one at `source`. */
  project(name: string, source?: string): PulumiProject;
}

/** What Docker lacks for a test: a daemon that answers, or local `images` (nothing can be pulled in CI). */
function missingFromDocker(images: readonly string[]): string[] {
  try {
    execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { stdio: "pipe" });
    const present = execFileSync("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], { encoding: "utf8" }).split("\n");
    const absent = images.filter((image) => !present.includes(image));
    return absent.length > 0 ? [`local images ${absent.join(", ")} (test/images/build.sh)`] : [];
  } catch {
    return ["a Docker daemon (../shared/tools/runtime/docker-up.sh)"];
  }
}

/** false when nothing is missing; otherwise the skip reason, or under CI ({@link underCi}) an error naming what `what` lacks. */
function skipUnlessComplete(what: string, missing: readonly string[]): string | false {
  if (missing.length === 0) return false;
  if (underCi()) throw new Error(`CI=${process.env.CI} and ${what} lacks: ${missing.join("; ")}`);
  return `needs ${missing.join("; ")}`;
}

/** The skip reason of tests that build and run containers from local `images` (see {@link skipUnlessComplete}). */
export function dockerSkip(what: string, images: readonly string[]): string | false {
  return skipUnlessComplete(what, missingFromDocker(images));
}

/**
 * The background builds of .ci/run each platform's tier needs: the Docker tier starts once the engine is built, while
 * the cluster, its provisioner and kube-router still compile at the lowest priority.
 */
const PENDING_BUILDS: Readonly<Record<"docker" | "kubernetes", readonly string[]>> = {
  docker: ["engine"],
  kubernetes: ["engine", "k8s", "storage", "policy"],
};

/** Waits for them (.ci/await-builds) where .ci/run started them (STATSD_STACK_PENDING_BUILDS); throws if one failed. */
function awaitPendingBuilds(platform: "docker" | "kubernetes"): void {
  if (!process.env.STATSD_STACK_PENDING_BUILDS) return;
  // Its report goes to stderr: the test runner reads the file's stdout.
  execFileSync("bash", [path.join(__dirname, "..", "..", ".ci", "await-builds"), ...PENDING_BUILDS[platform]], { stdio: ["ignore", 2, 2] });
}

function missingPieces(platform: "docker" | "kubernetes"): string[] {
  const missing: string[] = [];
  const engine = findEngineBin();
  if (!engine) missing.push("the Pulumi engine (../shared/tools/pulumi-engine/build.sh; or PULUMI_ENGINE_BIN)");
  missing.push(...missingFromDocker(TIER_IMAGES));
  if (platform === "kubernetes") {
    try {
      execFileSync("kubectl", ["get", "--raw", "/readyz"], { stdio: "pipe", timeout: 10_000 });
    } catch {
      missing.push("a Kubernetes cluster in KUBECONFIG (../shared/tools/runtime/k8s-up.sh)");
    }
    // On the runtime's cluster the tier enforces NetworkPolicies with kube-router (test/cluster/network-policy.sh).
    if (recordedPid(KUBELET) !== undefined && !findBinary("ipset")) missing.push("the ipset command, for kube-router's NetworkPolicy enforcement (apt-get install ipset)");
  }
  return missing;
}

export function deploymentTier(platform: "docker" | "kubernetes"): Tier {
  awaitPendingBuilds(platform);
  const skip = skipUnlessComplete(`the ${platform} deployment tier`, missingPieces(platform));
  return { skip, project: (name, source) => new PulumiProject(findEngineBin()!, name, source) };
}

/** The status Grafana answers `GET /api/user` with, logged in as admin with `password` (200, or 401). */
export async function grafanaLogin(grafanaUrl: string, password: string): Promise<number> {
  const res = await fetch(`${grafanaUrl}/api/user`, { headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` } });
  await res.arrayBuffer();
  return res.status;
}

/**
 * The last release before the resources were renamed (one Topology component named `pipeline`, platform
 * components): its stacks named them `graphite-graphite-container-0`, `k8s`, `namespace`, ... The upgrade tests
 * deploy it, then upgrade to this tree.
 */
export const RELEASE_BEFORE_RENAME = "c98dc07";

/**
 * The repository's tree at `commit`, extracted into a temporary folder (`git archive`): a release a user may have
 * deployed. Needs the commit in this clone's history; without it, a skip reason (under CI, an error).
 */
export function releaseTree(commit: string): { dir: string; skip: false } | { dir: ""; skip: string } {
  const root = path.join(__dirname, "..", "..");
  try {
    execFileSync("git", ["-C", root, "cat-file", "-e", `${commit}^{commit}`], { stdio: "pipe" });
  } catch {
    const reason = skipUnlessComplete(`the upgrade test from ${commit}`, [`commit ${commit} in this clone's history (a full clone, not a shallow one)`]);
    return { dir: "", skip: reason as string };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `statsd-stack-release-${commit}-`));
  execFileSync("sh", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, commit, dir], { stdio: "pipe" });
  return { dir, skip: false };
}

/** A stack deployed by an earlier release, then switched to this tree (not yet updated). */
export interface ReleaseUpgrade {
  readonly project: PulumiProject;
  /** What `pulumi preview` plans after the switch, `type::name -> op` (see {@link PulumiProject.plannedChanges}). */
  readonly planned: Record<string, string>;
  /**
   * Resources the upgrade would delete. A resource of the release whose new name no alias matches is deleted (and
   * created anew under the new name): none may be.
   */
  readonly deleted: string[];
  /** Resources the upgrade would create: only what the release did not have. */
  readonly created: string[];
  /** Destroys the stack and removes the project copy and the release tree. */
  remove(): Promise<void>;
}

/**
 * Deploys `stack` from the release tree `release` (after `configure` has set it up), runs `atRelease` on the
 * deployed release, then switches the project to this tree and previews the upgrade.
 */
export async function deployReleaseThenSwitch(
  tier: Tier,
  release: string,
  stack: string,
  configure: (project: PulumiProject) => Promise<void>,
  atRelease: () => Promise<void>,
): Promise<ReleaseUpgrade> {
  const project = tier.project(`upgrade-${stack}`, release);
  const remove = async () => {
    await project.pulumi(["destroy", "--yes", "--stack", stack]);
    project.remove();
    rmSync(release, { recursive: true, force: true });
  };
  try {
    await configure(project);
    await project.must(["up", "--yes", "--stack", stack]);
    await atRelease();
    project.useSource(path.join(__dirname, "..", ".."));
    const planned = await project.plannedChanges(stack);
    const withOp = (op: string) => Object.keys(planned).filter((resource) => planned[resource] === op);
    return { project, planned, deleted: withOp("delete"), created: withOp("create"), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
