/**
 * The Docker platform: each workload becomes containers on one user-defined network, reachable by its name as a
 * network alias, with ports published on the configured bind address (127.0.0.1 by default).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { PortId } from "../../pipeline/ports";
import { rootAlias } from "../aliases";
import { buildLocalImage, localImageName } from "./local-image";
import { portOf, replicaPorts, type Deployed, type Platform, type WorkloadProbe, type WorkloadSpec } from "./workload";

/** Arguments of {@link DockerPlatform}. */
export interface DockerPlatformArgs {
  /** Prefix of container, network and volume names, e.g. `statsd-stack-graphite`: two stacks can coexist. */
  readonly namePrefix: string;
  /** Host address every published port binds to: 127.0.0.1 unless the stack's config says otherwise. */
  readonly bindAddress: string;
  /** Host port of each published port (replica n of a workload publishes the port + n). */
  readonly hostPorts: Readonly<Record<PortId, number>>;
  /**
   * `pulumi destroy` leaves the data volumes (config `dataOnDestroy: retain`). Their names are fixed, and Docker's
   * volume create answers an existing name with that volume: the stack's next `pulumi up` takes them up again.
   */
  readonly retainData?: boolean;
}

/** /tmp of a container with a read-only root filesystem. */
const TMP_TMPFS = "rw,noexec,nosuid,size=16m";

/**
 * What every container gets whatever it runs: no privilege gained through setuid binaries, its memory limit with no
 * swap beyond it (left unset, Docker sets twice the memory, which then reads back as a change), and its CPUs.
 */
function hardenedLimits(memoryMiB: number, cpuLimit: string): Pick<docker.ContainerArgs, "securityOpts" | "memory" | "memorySwap" | "cpus"> {
  return { securityOpts: ["no-new-privileges:true"], memory: memoryMiB, memorySwap: memoryMiB, cpus: cpus(cpuLimit) };
}

/** A replica's network holder ({@link DockerPlatform.replicaNetwork}) runs `sleep`: 16 MiB is ample (Docker's floor is 6). */
const NETNS_MEMORY_MIB = 16;

/** Memory quantity ("256Mi", "1Gi") in MiB, as Docker's `memory` wants. */
export function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unsupported memory quantity ${quantity}: use Mi or Gi`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

/**
 * CPU quantity ("500m", "1") as Docker's `cpus` string, written the way the provider reads it back from the engine
 * ("1.0", "0.5", "0.25"): any other spelling is a difference at every `pulumi up`, and `cpus` replaces the container.
 */
export function cpus(quantity: string): string {
  const milli = quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
  if (!Number.isInteger(milli) || milli <= 0) throw new Error(`unsupported CPU quantity ${quantity}: use e.g. 500m or 1`);
  return milli % 1000 === 0 ? `${milli / 1000}.0` : String(milli / 1000);
}

/** The command Docker runs inside the container for a probe. */
export function healthTest(probe: WorkloadProbe): string[] {
  if ("http" in probe) {
    return ["CMD", ...(probe.http.command ?? ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${probe.http.port}${probe.http.path}`])];
  }
  return ["CMD-SHELL", `nc -z 127.0.0.1 ${probe.tcp.port}`];
}

/**
 * The local Docker engine as a platform: owns the stack's network; each workload deployed on it becomes containers
 * (children of the workload's component) on that network.
 */
export class DockerPlatform extends pulumi.ComponentResource implements Platform {
  readonly kind = "docker";
  /** The stack's user-defined bridge network: workloads reach each other by their names as network aliases. */
  readonly network: docker.Network;
  private readonly args: DockerPlatformArgs;

  constructor(name: string, args: DockerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:DockerPlatform", name, {}, opts);
    this.args = args;
    const networkName = `${args.namePrefix}-net`;
    this.network = new docker.Network(
      `${name}-network`,
      { name: networkName, driver: "bridge" },
      // Stacks deployed before the platform was a component had the network at the root, under its Docker name.
      { parent: this, aliases: [rootAlias(networkName, "docker:index/network:Network")] },
    );
    this.registerOutputs({ network: this.network.name });
  }

  /** Docker's DNS answers a network alias with every running container that has it: each replica's network holder. */
  replicasHost(service: string): string {
    return service;
  }

  deploy(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): Deployed {
    const { namePrefix, bindAddress, hostPorts } = this.args;
    const image = this.image(prefix, spec, parent);

    const volumes = (spec.dataPaths ?? []).map((containerPath, i) => {
      const volume = new docker.Volume(
        `${prefix}-data-${i}`,
        { name: `${namePrefix}-${spec.name}-data-${i}` },
        { parent, retainOnDelete: this.args.retainData === true },
      );
      return { volumeName: volume.name, containerPath };
    });
    const tmpfs: Record<string, string> = Object.fromEntries((spec.scratchPaths ?? []).map((p) => [p, "rw,nosuid,nodev,size=64m"]));
    if (spec.security.readOnlyRootFilesystem) tmpfs["/tmp"] = TMP_TMPFS;

    const replicas = spec.replicas ?? 1;
    const sidecar = spec.sidecar;
    const sidecarImage = sidecar && this.pulled(`${prefix}-${sidecar.name}-image`, sidecar.image.ref, parent);
    /** The published ports of `ports`, replica n's at the configured port + n. */
    const publish = (ports: WorkloadSpec["ports"], replica: number) =>
      ports
        .filter((p) => p.publish !== undefined)
        .map((p) => ({ internal: p.port, external: hostPorts[p.publish!] + replica, ip: bindAddress, protocol: p.protocol }));
    // Replica n is always `-n`, so a change of the replica count adds or removes containers and keeps the others.
    for (let replica = 0; replica < replicas; replica++) {
      const netns = sidecar && this.replicaNetwork(prefix, spec, replica, image, [...publish(spec.ports, replica), ...publish(sidecar.ports, replica)], parent);
      // The sidecar and the replica join the holder's network namespace. The replica also depends on its sidecar, so
      // Pulumi deletes the replica first, and the sidecar, stopped only then, still holds what the replica sent last.
      const companion =
        sidecar &&
        new docker.Container(
          `${prefix}-${sidecar.name}-${replica}`,
          {
            ...this.containerBasics(sidecar, sidecarImage!),
            name: `${namePrefix}-${spec.name}-${sidecar.name}-${replica}`,
            networkMode: pulumi.interpolate`container:${netns!.id}`,
            // Docker has no hook before the stop signal: the sidecar is sent one it ignores and killed outliveSeconds later.
            stopSignal: sidecar.lingerSignal,
            stopTimeout: sidecar.outliveSeconds,
            destroyGraceSeconds: sidecar.outliveSeconds,
            tmpfs: sidecar.security.readOnlyRootFilesystem ? { "/tmp": TMP_TMPFS } : undefined,
          },
          { parent, deleteBeforeReplace: true },
        );
      new docker.Container(
        `${prefix}-container-${replica}`,
        {
          ...this.containerBasics(spec, image),
          name: `${namePrefix}-${spec.name}-${replica}`,
          envs: pulumi
            .all({ ...(spec.env ?? {}), ...(spec.secretEnv ?? {}) })
            .apply((env) => Object.entries(env).map(([k, v]) => `${k}=${v}`)),
          ...(netns
            ? { networkMode: pulumi.interpolate`container:${netns.id}` }
            : { networksAdvanced: [{ name: this.network.name, aliases: [spec.name] }], ports: publish(spec.ports, replica) }),
          volumes,
          stopTimeout: spec.shutdown?.graceSeconds,
          // Without it the provider removes the container by force (SIGKILL): the stop signal lets the process finish
          // its requests and flush what it holds.
          destroyGraceSeconds: spec.shutdown?.graceSeconds,
          tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : undefined,
        },
        // Fixed container names and host ports would clash if a replacement started before the old one went.
        { parent, deleteBeforeReplace: true, ...(companion ? { dependsOn: [companion] } : {}) },
      );
    }

    // The network alias is known before any container exists. Taking it from a container's outputs would make it
    // unknown in a preview whenever that container is replaced, and every workload configured with it would show
    // as replaced too.
    const host = pulumi.output(spec.name);
    return {
      host,
      internalUrl: (portName) => pulumi.interpolate`http://${host}:${portOf(spec, portName).port}`,
      publicAddress: (port) => {
        if (!replicaPorts(spec).some((p) => p.publish === port)) throw new Error(`workload ${spec.name} does not publish ${port}`);
        const address = bindAddress === "0.0.0.0" ? "127.0.0.1" : bindAddress;
        return pulumi.output(`${address}:${hostPorts[port]}`);
      },
    };
  }

  /**
   * The network namespace of a replica with a sidecar, held as a pod's pause container holds it: a container of the
   * workload's image that only sleeps, with the replica's network alias and every published port. The replica's and
   * the sidecar's containers join it. Docker gives a restarted container a new namespace, and a container that
   * joined the old one keeps it, with no interface but `lo`: had the sidecar owned the namespace, a sidecar restarted
   * by its restart policy (a crash, an OOM kill) would have cut its replica off from the network and from its
   * sidecar, while the replica's health check, on localhost, still passed. Nothing runs here that could crash.
   */
  private replicaNetwork(
    prefix: string,
    spec: WorkloadSpec,
    replica: number,
    image: pulumi.Output<string>,
    ports: docker.types.input.ContainerPort[],
    parent: pulumi.Resource,
  ): docker.Container {
    const user = spec.security.runAsUser ?? 65534;
    return new docker.Container(
      `${prefix}-netns-${replica}`,
      {
        image,
        name: `${this.args.namePrefix}-${spec.name}-netns-${replica}`,
        entrypoints: ["sleep", "infinity"],
        networksAdvanced: [{ name: this.network.name, aliases: [spec.name] }],
        ports,
        restart: "unless-stopped",
        user: `${user}:${spec.security.runAsGroup ?? user}`,
        readOnly: true,
        capabilities: { drops: ["ALL"] },
        ...hardenedLimits(NETNS_MEMORY_MIB, "100m"),
        // sleep, PID 1, has no handler for SIGTERM: stopped at once, after the replica and its sidecar (they depend on it).
        stopSignal: "SIGKILL",
        // Not the image's health check (the app's, on the port the replica listens on): nothing here to check.
        healthcheck: { tests: ["NONE"] },
        logDriver: "json-file",
        logOpts: { "max-size": "1m", "max-file": "1" },
      },
      { parent, deleteBeforeReplace: true },
    );
  }

  /** A pulled image's ID. Pulled images stay in Docker's cache for the next `up` (and for other stacks). */
  private pulled(name: string, ref: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Output<string> {
    return new docker.RemoteImage(name, { name: ref, keepLocally: true }, { parent }).imageId;
  }

  /**
   * What every container of the platform has, from what a workload or sidecar says: its image, command line, files,
   * health check, user, limits and hardening, the restart policy and the log rotation.
   */
  private containerBasics(
    part: Pick<WorkloadSpec, "args" | "files" | "probe" | "resources" | "security">,
    image: pulumi.Input<string>,
  ): Omit<docker.ContainerArgs, "name"> {
    return {
      image,
      command: part.args ? [...part.args] : undefined,
      uploads: (part.files ?? []).map((f) => ({
        file: f.path,
        content: f.secret ? pulumi.secret(f.content) : f.content,
        ...(f.executable ? { executable: true } : {}),
      })),
      healthcheck: {
        tests: healthTest(part.probe),
        interval: "10s",
        timeout: "5s",
        startPeriod: "20s",
        retries: 6,
      },
      wait: true,
      waitTimeout: 180,
      restart: "unless-stopped",
      user: part.security.runAsUser === undefined ? undefined : `${part.security.runAsUser}:${part.security.runAsGroup ?? part.security.runAsUser}`,
      // Docker refuses to copy config files into a read-only root filesystem, so only file-less workloads
      // run read-only here; on Kubernetes the files are mounted and every workload that allows it is read-only.
      readOnly: part.security.readOnlyRootFilesystem && (part.files ?? []).length === 0,
      capabilities: part.security.runAsUser === undefined ? undefined : { drops: ["ALL"] },
      ...hardenedLimits(mebibytes(part.resources.memoryLimit), part.resources.cpuLimit),
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
    };
  }

  /** The image ID to run: containers referenced by ID are replaced only when the image really changes. */
  private image(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): pulumi.Output<string> {
    if ("ref" in spec.image) return this.pulled(`${prefix}-image`, spec.image.ref, parent);
    return buildLocalImage(prefix, localImageName(this.args.namePrefix, spec.name, spec.image.build.tag), spec.image.build.context, parent).imageId;
  }
}
