/**
 * Runs the Pulumi program (index.ts) under Pulumi's mocks: no engine, no Docker, no cluster. The mocks stand in for
 * what cannot run here and fill the fields the providers would compute; every resource the program registers is
 * captured with its inputs and parent for the tests to inspect.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

export interface CapturedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the provider would receive them, outputs resolved. */
  inputs: Record<string, any>;
  /** `type::name` of the parent resource, undefined for the stack's direct children. */
  readonly parent?: string;
  /** The resource options the program gave that decide how a replacement happens and how long the engine waits. */
  readonly options: {
    readonly deleteBeforeReplace?: boolean;
    readonly replaceOnChanges?: readonly string[];
    readonly customTimeouts?: pulumi.CustomTimeouts;
  };
}

export interface ProgramRun {
  readonly resources: CapturedResource[];
  /** The program's exports, resolved; secret outputs are unwrapped and listed in `secretOutputs`. */
  readonly outputs: Record<string, unknown>;
  readonly secretOutputs: string[];
  /** Inputs the mocks saw that were marked secret, by `type::name`. */
  readonly secretInputs: Set<string>;
}

const ROOT = path.join(__dirname, "..", "..");

/** Computed fields a real provider would return. */
function computed(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  switch (type) {
    case "docker:index/image:Image":
      return { repoDigest: `sha256:${"a".repeat(64)}`, imageName: inputs.imageName };
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}` };
    case "random:index/randomPassword:RandomPassword":
      return { result: "generated-password-for-tests" };
    case "command:local:Command":
      return { stdout: "" };
    default:
      if (type.startsWith("kubernetes:") && type !== "pulumi:providers:kubernetes") {
        const metadata = inputs.metadata ?? {};
        const named = { metadata: { ...metadata, name: metadata.name ?? `${name}-abc123`, uid: `uid-of-${name}` } };
        if (type === "kubernetes:core/v1:Service" && inputs.spec?.type === "NodePort") {
          // The API server assigns a NodePort to every port that asks for none: 32001, 32002, ... here.
          const ports = (inputs.spec.ports as Array<{ nodePort?: number }>).map((p, i) => ({ ...p, nodePort: p.nodePort ?? 32001 + i }));
          return { ...named, spec: { ...inputs.spec, ports } };
        }
        return named;
      }
      return {};
  }
}

function unwrapSecrets(value: any, found: { secret: boolean }): any {
  if (value && typeof value === "object") {
    if (value["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") {
      found.secret = true;
      return unwrapSecrets(value.value, found);
    }
    if (Array.isArray(value)) return value.map((v) => unwrapSecrets(v, found));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, found)]));
  }
  return value;
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
    for (const [key, value] of Object.entries(values)) merged[key.replace(/^statsd-stack:/, "")] = String(value);
  }
  return { ...merged, ...overrides };
}

/** Forgets every module of this project so the next import runs the program again. */
function forgetProjectModules(): void {
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[key];
  }
}

/**
 * Runs index.ts as stack `stack` with the config the engine would give it (see {@link stackConfig}) and `config`'s
 * values on top (keys without namespace). Pulumi's runtime keeps one root stack per process, so call this once per
 * test file (node --test runs each file in its own process).
 */
export async function runProgram(stack: string, config: Record<string, string>, secrets: string[] = []): Promise<ProgramRun> {
  const resources: CapturedResource[] = [];
  const secretInputs = new Set<string>();
  const byName = new Map<string, CapturedResource>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const found = { secret: false };
        const inputs = unwrapSecrets(args.inputs, found);
        const key = `${args.type}::${args.name}`;
        if (found.secret) secretInputs.add(key);
        const captured = byName.get(key);
        if (captured) captured.inputs = inputs;
        return { id: `${args.name}-id`, state: { ...inputs, ...computed(args.type, args.name, inputs) } };
      },
      call: (args) => args.inputs,
    },
    "statsd-stack",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(stackConfig(stack, config)).map(([k, v]) => [`statsd-stack:${k}`, v])),
    secrets.map((k) => `statsd-stack:${k}`),
  );

  const names = new Map<pulumi.Resource, string>();
  forgetProjectModules();
  let outputs: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const key = `${args.type}::${args.name}`;
      names.set(args.resource, key);
      const parent = args.opts.parent ? names.get(args.opts.parent) : undefined;
      const opts = args.opts as pulumi.CustomResourceOptions;
      const entry: CapturedResource = {
        type: args.type,
        name: args.name,
        inputs: {},
        parent,
        options: {
          deleteBeforeReplace: opts.deleteBeforeReplace,
          replaceOnChanges: opts.replaceOnChanges,
          customTimeouts: opts.customTimeouts,
        },
      };
      resources.push(entry);
      byName.set(key, entry);
      return undefined;
    });
    // require, as the Pulumi runtime does: index.ts assigns its outputs to module.exports.
    outputs = require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
    return outputs;
  });

  const resolved: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(outputs ?? {})) {
    if (pulumi.Output.isInstance(value)) {
      resolved[key] = await new Promise((resolve) => value.apply(resolve));
      if (await pulumi.isSecret(value)) secretOutputs.push(key);
    } else {
      resolved[key] = value;
    }
  }
  // Let the mocks see every registration before the tests read the captured inputs.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { resources, outputs: resolved, secretOutputs, secretInputs };
}

/**
 * Loads index.ts without a root stack, counting what the mocks are asked to create: for programs that must fail
 * before registering anything (a stack would turn the failure into rejected engine promises).
 */
export async function loadProgramExpectingFailure(stack: string, config: Record<string, string>): Promise<{ error: unknown; registered: number }> {
  let registered = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered++;
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "statsd-stack",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(stackConfig(stack, config)).map(([k, v]) => [`statsd-stack:${k}`, v])));
  forgetProjectModules();
  try {
    require(path.join(ROOT, "index.ts"));
    return { error: undefined, registered };
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { error, registered };
  }
}
