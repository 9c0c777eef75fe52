/**
 * What a topology's backend is to the rest of the stack: where the app sends StatsD, in which style, and what
 * Grafana reads. A backend file (components/backends/) creates its components; the {@link Topology} adds the app and
 * Grafana around them, so a new topology is one backend plus a stack file.
 */
import * as pulumi from "@pulumi/pulumi";
import type { MetricsStyle } from "../app/src/metrics/catalog";
import type { Dashboard } from "../dashboards/model";
import type { StackConfig } from "./config";
import type { GrafanaDatasourceArgs } from "./grafana";
import type { Deployed, Platform, WorkloadSidecar } from "./platform/workload";

/** What a backend is given: the platform to run on and the stack's validated configuration. */
export interface BackendArgs {
  readonly platform: Platform;
  readonly config: StackConfig;
}

/** Where StatsD reaches a backend. */
export interface StatsdIngest {
  /** Host and UDP port the app sends StatsD to, inside the stack's network. */
  readonly statsdHost: pulumi.Output<string>;
  readonly statsdPort: pulumi.Output<number>;
  /** `host:port` (UDP) where this machine sends StatsD to the backend: the stack's `statsdEndpoint` output. */
  readonly statsdEndpoint: pulumi.Output<string>;
}

/** The ingest of a deployed workload whose port named `statsd` (UDP, `port` in the container) is published as `statsd`. */
export function statsdIngest(deployed: Deployed, port: number): StatsdIngest {
  return { statsdHost: deployed.host, statsdPort: pulumi.output(port), statsdEndpoint: deployed.publicAddress("statsd") };
}

/** A StatsD receiver the backend puts beside each app replica, which the app reaches on localhost. */
export interface AppSidecar {
  readonly sidecar: WorkloadSidecar;
  /** The address the app sends StatsD to: the sidecar, in the replica's own network. */
  readonly statsdHost: string;
  readonly statsdPort: number;
  /** The backend's stack outputs that name the sidecar's published ports, once the app is deployed with it. */
  outputs(app: Deployed): Readonly<Record<string, pulumi.Output<string>>>;
}

/** A deployed backend. */
export interface DeployedBackend {
  /** Where the app sends StatsD: a service of the backend's, or a sidecar of the backend's beside each app replica. */
  readonly statsd: { readonly service: StatsdIngest } | { readonly sidecar: AppSidecar };
  /** The StatsD dialect the backend understands. */
  readonly metricsStyle: MetricsStyle;
  /** Grafana's datasource for the backend (the first is the default) and the dashboards that read it. */
  readonly datasources: readonly GrafanaDatasourceArgs[];
  readonly dashboards: readonly Dashboard[];
  /** The backend's own stack outputs, e.g. `graphiteUrl`. */
  readonly outputs: Readonly<Record<string, pulumi.Output<string>>>;
}

export interface Backend {
  /** Creates the backend's components as children of `parent`, each named `${name}-<part>`. */
  deploy(name: string, args: BackendArgs, parent: pulumi.Resource): DeployedBackend;
}
