/**
 * The real Pulumi CLI, run as a user runs it: on a copy of this project (its own Pulumi.yaml and stack files), with
 * local state in a temporary folder (`PULUMI_BACKEND_URL`), a passphrase for secrets, and the engine's plugins from
 * PATH (nothing is downloaded). The copy keeps the repository's working tree untouched when a test runs
 * `pulumi config set`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findBinary } from "../../scripts/local/binaries";
import { failureReport, runCommand, type CommandResult } from "../../scripts/local/processes";

const ROOT = path.join(__dirname, "..", "..");

/** What the engine needs: the CLI, the nodejs language host and the providers the program uses. */
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-docker", "pulumi-resource-random", "pulumi-resource-command", "pulumi-resource-kubernetes"];

/** The folder holding the engine: `PULUMI_ENGINE_BIN`, or the one `pulumi` is found in (PATH, or the kit's cache). */
export function findEngineBin(): string | undefined {
  const candidates = [
    process.env.PULUMI_ENGINE_BIN,
    ...(findBinary("pulumi") ? [path.dirname(findBinary("pulumi")!)] : []),
    ...kitBins(),
  ].filter((d): d is string => d !== undefined && d !== "");
  return candidates.find((dir) => ENGINE_BINARIES.every((b) => existsSync(path.join(dir, b))));
}

/** Where ../shared/tools/pulumi-engine/build.sh puts its binaries. */
function kitBins(): string[] {
  const root = path.join(process.env.STATSD_STACK_TOOLS ?? path.join(os.homedir(), ".cache", "statsd-stack-tools"), "pulumi-engine");
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .reverse()
    .map((version) => path.join(root, version, "bin"));
}

/** How a CLI run ended. */
export type CliResult = CommandResult;

/** Files and folders of the project a user's clone has; dependencies are linked, not copied. */
const SKIP = new Set([".git", "node_modules", ".e2e", "rendered", "test"]);

export class PulumiProject {
  /** The project copy the CLI runs in. */
  readonly dir: string;
  readonly env: Record<string, string>;
  private readonly work: string;

  /** A copy of the project at `source` (this repository by default; e.g. an earlier release's tree). */
  constructor(readonly engineBin: string, name: string, source = ROOT) {
    this.work = mkdtempSync(path.join(os.tmpdir(), `statsd-stack-${name}-`));
    this.dir = path.join(this.work, "project");
    mkdirSync(this.dir);
    this.copySource(source, () => true);
    mkdirSync(path.join(this.work, "state"));
    mkdirSync(path.join(this.work, "home"));
    this.env = {
      PATH: [engineBin, path.join(ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(path.delimiter),
      HOME: process.env.HOME ?? this.work,
      PULUMI_HOME: path.join(this.work, "home"),
      PULUMI_BACKEND_URL: `file://${path.join(this.work, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "deployment-tests-only",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // No colour codes in what the tests read.
      NO_COLOR: "1",
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      ...(process.env.KUBECONFIG ? { KUBECONFIG: process.env.KUBECONFIG } : {}),
    };
  }

  /**
   * Replaces the project's code with the tree at `source`, keeping the stacks' own config files (Pulumi.<stack>.yaml,
   * as `pulumi config set` left them) and the state: what a user's `git pull` does before the next `pulumi up`.
   */
  useSource(source: string): void {
    const isStackFile = (entry: string) => /^Pulumi\..+\.yaml$/.test(entry);
    for (const entry of readdirSync(this.dir)) if (!isStackFile(entry)) rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    this.copySource(source, (entry) => !isStackFile(entry));
  }

  private copySource(source: string, include: (entry: string) => boolean): void {
    for (const entry of readdirSync(source)) {
      if (SKIP.has(entry) || !include(entry)) continue;
      cpSync(path.join(source, entry), path.join(this.dir, entry), { recursive: true, filter: (src) => !src.endsWith(`${path.sep}node_modules`) });
    }
    // Dependencies are linked: the copy runs the same installed packages as the repository.
    symlinkSync(path.join(ROOT, "node_modules"), path.join(this.dir, "node_modules"));
    symlinkSync(path.join(ROOT, "app", "node_modules"), path.join(this.dir, "app", "node_modules"));
  }

  /** Runs `pulumi ...args` in the project copy; never throws on a non-zero exit (tests assert on it). */
  pulumi(args: readonly string[], timeoutMs = 600_000): Promise<CliResult> {
    return this.run("pulumi", [...args, "--color", "never"], timeoutMs);
  }

  /** Runs any command in the project copy with the CLI's environment (e.g. `npm run smoke`). */
  run(command: string, args: readonly string[], timeoutMs = 600_000, extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return runCommand(command, args, { cwd: this.dir, env: { ...this.env, ...extraEnv }, timeoutMs });
  }

  /** `pulumi ...args`, failing with the CLI's output when it exits non-zero. */
  async must(args: readonly string[], timeoutMs?: number): Promise<CliResult> {
    const result = await this.pulumi(args, timeoutMs);
    if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} ${failureReport(result)}`);
    return result;
  }

  async outputs(stack: string): Promise<Record<string, unknown>> {
    return JSON.parse((await this.must(["stack", "output", "--json", "--show-secrets", "--stack", stack])).stdout) as Record<string, unknown>;
  }

  /** The resources the stack's state holds, as `type::name`. */
  async stateResources(stack: string): Promise<string[]> {
    const exported = JSON.parse((await this.must(["stack", "export", "--stack", stack])).stdout) as {
      deployment?: { resources?: Array<{ type: string; urn: string }> };
    };
    return (exported.deployment?.resources ?? []).map((r) => `${r.type}::${r.urn.split("::").at(-1)}`);
  }

  /** The URNs of the resources named `names` in the stack's state, in that order (for `pulumi up --replace`). */
  async urns(stack: string, names: readonly string[]): Promise<string[]> {
    const exported = JSON.parse((await this.must(["stack", "export", "--stack", stack])).stdout) as { deployment?: { resources?: Array<{ urn: string }> } };
    return names.map((name) => {
      const found = (exported.deployment?.resources ?? []).find((r) => r.urn.split("::").at(-1) === name);
      if (!found) throw new Error(`${stack} has no resource named ${name}`);
      return found.urn;
    });
  }

  /** An output of the resource named `name` in the stack's state, secrets decrypted (e.g. a RandomPassword's `result`). */
  async stateOutput(stack: string, name: string, output: string): Promise<unknown> {
    const exported = JSON.parse((await this.must(["stack", "export", "--show-secrets", "--stack", stack])).stdout) as {
      deployment?: { resources?: Array<{ urn: string; outputs?: Record<string, unknown> }> };
    };
    const resource = (exported.deployment?.resources ?? []).find((r) => r.urn.split("::").at(-1) === name);
    if (!resource) throw new Error(`${stack} has no resource named ${name}`);
    const value = resource.outputs?.[output];
    // Decrypted secrets come back wrapped as { 4dabf18193072939515e22adb298388d: "1b47061264138c4ac30d75fd1eb44270", plaintext: "<json>" }.
    if (value && typeof value === "object" && "plaintext" in value) return JSON.parse(String((value as { plaintext: string }).plaintext));
    return value;
  }

  /**
   * What `pulumi preview` would do, by resource: `type::name -> op` for every step that is not `same`. Read from
   * `--json`, so the test does not depend on the CLI's wording.
   */
  async plannedChanges(stack: string): Promise<Record<string, string>> {
    const { stdout } = await this.must(["preview", "--json", "--stack", stack]);
    const preview = JSON.parse(stdout) as { steps?: Array<{ op: string; urn: string; newState?: { type: string }; oldState?: { type: string } }> };
    const changes: Record<string, string> = {};
    for (const step of preview.steps ?? []) {
      if (step.op === "same" || step.op === "read") continue;
      const type = step.newState?.type ?? step.oldState?.type ?? "?";
      changes[`${type}::${step.urn.split("::").at(-1)}`] = step.op;
    }
    return changes;
  }

  remove(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}
