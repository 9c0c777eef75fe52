/**
 * A platform-neutral description of one service: what runs, not how. Components build a {@link WorkloadSpec};
 * a {@link Platform} (Docker or Kubernetes) realises it and returns where it can be reached.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PortId } from "../../pipeline/ports";

export interface WorkloadPort {
  /** Port name: lowercase letters, digits and `-`, at most 15 characters (a Kubernetes port name). */
  readonly name: string;
  readonly port: number;
  readonly protocol: "tcp" | "udp";
  /** Publish this port on the host (Docker) or as a NodePort (Kubernetes), per the port table. */
  readonly publish?: PortId;
}

export interface WorkloadFile {
  /** Absolute path inside the container. */
  readonly path: string;
  readonly content: pulumi.Input<string>;
}

export type WorkloadProbe =
  | {
      readonly http: {
        readonly path: string;
        readonly port: number;
        /** How to run the check from inside the container where the platform can only exec (Docker). */
        readonly command?: readonly string[];
      };
    }
  | { readonly tcp: { readonly port: number } };

export interface WorkloadResources {
  /** Kubernetes quantities, e.g. "100m" and "128Mi". */
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

export interface WorkloadSecurity {
  /** A numeric user, so a runtime can verify it is not root. Undefined: the image's own user (root, see comment). */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readOnlyRootFilesystem: boolean;
  /** Why the workload needs root, when it does: said where it is decided. */
  readonly rootReason?: string;
}

export type WorkloadImage =
  | { readonly ref: pulumi.Input<string> }
  /**
   * Build from a local directory with a Dockerfile; `tag` is a content hash so that a change makes a new image. The
   * platform names the image per stack, so that destroying one stack removes its image and no other stack's.
   */
  | { readonly build: { readonly context: string; readonly tag: string } };

/** How a service stops without dropping work. */
export interface WorkloadShutdown {
  /**
   * Seconds it keeps serving after it is told to stop, while load balancers stop sending it requests (Kubernetes:
   * a preStop sleep before SIGTERM).
   */
  readonly drainSeconds: number;
  /** Seconds from the stop request to SIGKILL: the drain plus the time the process needs to finish after SIGTERM. */
  readonly graceSeconds: number;
}

export interface WorkloadSpec {
  /** The service's name: its network alias on Docker, its Service name on Kubernetes. A DNS label. */
  readonly name: string;
  readonly image: WorkloadImage;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Environment values that are secrets: a Kubernetes Secret, or a Docker env entry marked secret in state. */
  readonly secretEnv?: Readonly<Record<string, pulumi.Input<string>>>;
  readonly ports: readonly WorkloadPort[];
  readonly files?: readonly WorkloadFile[];
  /**
   * Directories holding data worth keeping (time series): a named volume on Docker, kept when the container is
   * replaced; an emptyDir on Kubernetes. Writable under a read-only root filesystem.
   */
  readonly dataPaths?: readonly string[];
  /** Directories the process writes but need not keep: empty at every start (tmpfs on Docker, emptyDir on Kubernetes). */
  readonly scratchPaths?: readonly string[];
  readonly probe: WorkloadProbe;
  readonly resources: WorkloadResources;
  readonly security: WorkloadSecurity;
  readonly replicas?: number;
  /** Undefined: the platform's default stop (SIGTERM, then SIGKILL after Docker's 10 s or Kubernetes' 30 s). */
  readonly shutdown?: WorkloadShutdown;
}

/** Where a realised workload can be reached. */
export interface Deployed {
  /** Host name other services use to reach it (network alias or Service name), as an output of the resource. */
  readonly host: pulumi.Output<string>;
  /** `http://<host>:<port>` inside the network, for a named port. */
  internalUrl(portName: string): pulumi.Output<string>;
  /** `host:port` where this machine reaches a published port (for UDP, where a client sends datagrams). */
  publicAddress(port: PortId): pulumi.Output<string>;
}

export interface Platform {
  readonly kind: "docker" | "kubernetes";
  /** Realises `spec` as children of `parent`, named `${prefix}-<part>`. */
  deploy(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): Deployed;
}

/** The URL a user opens on this machine for a published HTTP port. */
export function publicUrl(deployed: Deployed, port: PortId): pulumi.Output<string> {
  return deployed.publicAddress(port).apply((address) => `http://${address}`);
}

/** The port of `spec` with the given name; throws if a component refers to a port it did not declare. */
export function portOf(spec: WorkloadSpec, name: string): WorkloadPort {
  const port = spec.ports.find((p) => p.name === name);
  if (!port) throw new Error(`workload ${spec.name} has no port named ${name}`);
  return port;
}
