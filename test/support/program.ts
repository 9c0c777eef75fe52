/**
 * Runs the stack (components/stack.ts, what index.ts runs) under Pulumi's mocks: no engine, no Docker, no cluster.
 * The mocks fill the fields a provider or the API server would compute, with values that differ per resource and
 * per run (NodePorts, passwords), so a test that reads the wrong resource's value fails. Every resource is captured
 * with its inputs, its computed state, its parent and the options that decide how it is replaced.
 *
 * Several stacks can run in one process: nothing here needs Pulumi's root stack resource.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
// Internal to @pulumi/pulumi (not in its typings) but exported: what `disconnect` waits on before it closes.
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };
import { readStackConfig, type ConfigSource } from "../../components/config";
import { statsdStack } from "../../components/stack";

export interface CapturedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the provider would receive them, outputs resolved and secrets unwrapped. */
  inputs: Record<string, any>;
  /** The state the mocks returned: inputs plus what the provider or API server would compute. */
  state: Record<string, any>;
  /** Every string in the inputs that was not inside a secret, with its path: where a leaked secret would show. */
  plainStrings: Array<[path: string, value: string]>;
  /** `type::name` of the parent resource, undefined for the stack's direct children. */
  readonly parent?: string;
  /** The resource options the program gave that decide how a replacement happens and how long the engine waits. */
  readonly options: {
    readonly deleteBeforeReplace?: boolean;
    readonly customTimeouts?: pulumi.CustomTimeouts;
    readonly aliases?: readonly unknown[];
    readonly retainOnDelete?: boolean;
    /** `type::name` of each resource in `dependsOn` (given as an array of resources), in the program's order. */
    readonly dependsOn?: readonly string[];
  };
}

export interface ProgramRun {
  readonly resources: CapturedResource[];
  /** The stack's outputs, resolved; secret outputs are unwrapped and listed in `secretOutputs`. */
  readonly outputs: Record<string, unknown>;
  readonly secretOutputs: string[];
}

const ROOT = path.join(__dirname, "..", "..");
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** What the engine would send for a secret input; unwrapped by {@link unwrapSecrets}. */
function isSecretWrapper(value: any): boolean {
  return value !== null && typeof value === "object" && value[SECRET_SIG] === SECRET_VALUE;
}

function unwrapSecrets(value: any): any {
  if (isSecretWrapper(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  return value;
}

/** Every string leaf of `value` that is not inside a secret, with its path (`envs.3`, `spec.template...`). */
export function plainStrings(value: any, at = ""): Array<[string, string]> {
  if (isSecretWrapper(value)) return [];
  if (typeof value === "string") return [[at, value]];
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => plainStrings(v, at === "" ? k : `${at}.${k}`));
  }
  return [];
}

/** Where `secret` appears in plain text in any resource's inputs, as `type::name at path`. */
export function plainOccurrences(run: Pick<ProgramRun, "resources">, secret: string): string[] {
  return run.resources.flatMap((r) => r.plainStrings.filter(([, v]) => v.includes(secret)).map(([at]) => `${r.type}::${r.name} at ${at}`));
}

/** The run the mocks currently serve: computed values are drawn from it. */
interface Draws {
  nextNodePort: number;
  readonly password: string;
  readonly captured: Map<string, CapturedResource>;
}
let current: Draws | undefined;

/** Computed fields a real provider would return. */
function computed(type: string, name: string, inputs: Record<string, any>, draws: Draws): Record<string, any> {
  switch (type) {
    case "docker:index/image:Image":
      return { repoDigest: `sha256:${"a".repeat(64)}`, imageName: inputs.imageName };
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: imageIdOf(name) };
    case "random:index/randomPassword:RandomPassword":
      return { result: draws.password };
    case "command:local:Command":
      return { stdout: "" };
    default:
      if (type.startsWith("kubernetes:") && type !== "pulumi:providers:kubernetes") {
        const metadata = inputs.metadata ?? {};
        const named = { metadata: { ...metadata, name: metadata.name ?? `${name}-abc123`, uid: `uid-of-${name}` } };
        if (type === "kubernetes:core/v1:Service" && inputs.spec?.type === "NodePort") {
          // The API server assigns a distinct free NodePort to every port that asks for none.
          const ports = (inputs.spec.ports as Array<{ nodePort?: number }>).map((p) => ({ ...p, nodePort: p.nodePort ?? draws.nextNodePort++ }));
          return { ...named, spec: { ...inputs.spec, ports } };
        }
        return named;
      }
      return {};
  }
}

/** The image ID the mocks give a RemoteImage: derived from its name, so tests can tell which image a trigger names. */
export function imageIdOf(name: string): string {
  return `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;
}

/**
 * The config the engine would give the program for `stack`, as the engine merges it: Pulumi.yaml's defaults, then
 * the repository's Pulumi.<stack>.yaml if there is one, then `overrides` (keys without namespace).
 */
export function stackConfig(stack: string, overrides: Record<string, string>): Record<string, string> {
  const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { default?: unknown }> };
  const merged: Record<string, string> = {};
  for (const [key, declared] of Object.entries(project.config)) {
    if (declared.default !== undefined) merged[key] = String(declared.default);
  }
  const stackFile = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (existsSync(stackFile)) {
    const values = (parse(readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
    // Structured values (lists, objects) reach the program as JSON text, as the engine passes them.
    for (const [key, value] of Object.entries(values)) merged[key.replace(/^statsd-stack:/, "")] = typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }
  return { ...merged, ...overrides };
}

function setMocks(stack: string, newResource: (args: pulumi.runtime.MockResourceArgs) => { id: string; state: Record<string, any> }): Promise<void> {
  return pulumi.runtime.setMocks({ newResource, call: (args) => args.inputs }, "statsd-stack", stack, false);
}

const resolve = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((done) => output.apply(done));

/**
 * Runs the stack as stack `stack` with the config the engine would give it (see {@link stackConfig}) and
 * `overrides` on top (keys without namespace); `secrets` names the keys stored as secrets.
 */
export async function runProgram(stack: string, overrides: Record<string, string>, secrets: string[] = []): Promise<ProgramRun> {
  const draws: Draws = { nextNodePort: 30000 + Math.floor(Math.random() * 2000), password: randomBytes(12).toString("hex"), captured: new Map() };
  current = draws;
  await setMocks(stack, (args) => {
    if (current !== draws) throw new Error(`a resource of an earlier run registered during run ${stack}: ${args.type}::${args.name}`);
    const inputs = unwrapSecrets(args.inputs);
    const state = { ...inputs, ...computed(args.type, args.name, inputs, draws) };
    const captured = draws.captured.get(`${args.type}::${args.name}`);
    if (captured) Object.assign(captured, { inputs, state, plainStrings: plainStrings(args.inputs) });
    return { id: `${args.name}-id`, state };
  });

  const values = stackConfig(stack, overrides);
  const source: ConfigSource = {
    get: (key) => values[key],
    getSecret: (key) => (values[key] === undefined ? undefined : pulumi.secret(values[key]!)),
    isSecret: (key) => secrets.includes(key),
  };
  const resources: CapturedResource[] = [];
  const registered: pulumi.Resource[] = [];
  const names = new Map<pulumi.Resource, string>();
  const capture: pulumi.ResourceTransformation = (args) => {
    const key = `${args.type}::${args.name}`;
    names.set(args.resource, key);
    registered.push(args.resource);
    const opts = args.opts as pulumi.CustomResourceOptions;
    const entry: CapturedResource = {
      type: args.type,
      name: args.name,
      inputs: {},
      state: {},
      plainStrings: [],
      parent: args.opts.parent ? names.get(args.opts.parent) : undefined,
      options: {
        deleteBeforeReplace: opts.deleteBeforeReplace,
        customTimeouts: opts.customTimeouts,
        aliases: opts.aliases as unknown[],
        retainOnDelete: opts.retainOnDelete,
        dependsOn: Array.isArray(opts.dependsOn) ? opts.dependsOn.map((r) => names.get(r as pulumi.Resource) ?? "?") : undefined,
      },
    };
    resources.push(entry);
    draws.captured.set(key, entry);
    return undefined;
  };

  // The project folder, where `pulumi up` runs the program: a relative prometheusRulesFile is found there.
  const outputs = statsdStack(readStackConfig(source, stack, ROOT), { transformations: [capture] });
  const resolved: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(outputs)) {
    if (pulumi.Output.isInstance(value)) {
      resolved[key] = await resolve(value);
      if (await pulumi.isSecret(value)) secretOutputs.push(key);
    } else {
      resolved[key] = value;
    }
  }
  // A resource's URN resolves once the mocks have answered its registration: then its captured inputs are final.
  await Promise.all(registered.map((r) => resolve(r.urn)));
  // Components register their outputs once those resolve, after the run's own outputs may have: wait for every
  // call to the mocks, or a late one lands on the next run's mocks (an unknown URN there).
  await waitForRPCs();
  return { resources, outputs: resolved, secretOutputs };
}

/** Forgets every module of this project so the next import runs the program again. */
function forgetProjectModules(): void {
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[key];
  }
}

/**
 * Loads index.ts itself, counting what the mocks are asked to create: for programs that must fail before
 * registering anything.
 */
export async function loadProgramExpectingFailure(stack: string, config: Record<string, string>): Promise<{ error: unknown; registered: number }> {
  let registered = 0;
  await setMocks(stack, (args) => {
    registered++;
    return { id: `${args.name}-id`, state: args.inputs };
  });
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(stackConfig(stack, config)).map(([k, v]) => [`statsd-stack:${k}`, v])));
  forgetProjectModules();
  let error: unknown;
  try {
    require(path.join(ROOT, "index.ts"));
  } catch (thrown) {
    error = thrown;
  }
  // A registration reaches the mocks asynchronously: wait until every RPC the program started has been answered.
  // The runtime is unusable afterwards, so this is the last program a test process runs.
  await pulumi.runtime.disconnect();
  return { error, registered };
}
