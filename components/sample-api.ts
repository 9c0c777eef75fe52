/** The sample API as a component: the app image, its StatsD wiring and its public URL. */
import * as pulumi from "@pulumi/pulumi";
import type { MetricsStyle } from "../app/src/metrics/catalog";
import { APP_DIR, appImageTag } from "./platform/local-image";
import { containerPort } from "../pipeline/ports";
import { publicUrl, type Deployed, type Platform, type WorkloadSidecar, type WorkloadSpec } from "./platform/workload";

/** Arguments of {@link SampleApi}. */
export interface SampleApiArgs {
  /** Where the app runs. */
  readonly platform: Platform;
  /** Where the app sends StatsD: the backend component's host and port, never a literal. */
  readonly statsdHost: pulumi.Input<string>;
  readonly statsdPort: pulumi.Input<number>;
  /** The StatsD dialect the backend understands: plain Graphite-style names, or DogStatsD tags. */
  readonly metricsStyle: MetricsStyle;
  /** Prefix of every StatsD key the app sends. */
  readonly metricPrefix: pulumi.Input<string>;
  /** The `app_name` the app reports. */
  readonly appName: pulumi.Input<string>;
  /** Instances of the app (a plain number: each is a container on Docker). Default 1. */
  readonly replicas?: number;
  /** A pre-built image reference; when unset the image is built from `app/`. */
  readonly image?: pulumi.Input<string>;
  /** A process beside each replica (the exporter topology's sidecar mode), which the app reaches on localhost. */
  readonly sidecar?: WorkloadSidecar;
}

export const SAMPLE_API_SERVICE = "sample-api";

/** How long the app waits for in-flight requests after SIGTERM (`/io_task` takes 2 s, `/random_sleep` up to 5 s). */
const SHUTDOWN_TIMEOUT_SECONDS = 10;
/** How long a stopping pod keeps serving while Services stop routing to it (endpoint changes reach kube-proxy in ~1 s). */
const DRAIN_SECONDS = 5;

/** The sample HTTP API, instrumented with StatsD in the style the topology's backend understands. */
export class SampleApi extends pulumi.ComponentResource {
  /** Host name the API is reachable at inside the stack's network. */
  public readonly host: pulumi.Output<string>;
  /** The URL to open on this machine. */
  public readonly url: pulumi.Output<string>;
  /** Where its replicas (and their sidecar's ports) are reached. */
  public readonly deployment: Deployed;

  constructor(name: string, args: SampleApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:SampleApi", name, {}, opts);
    const spec: WorkloadSpec = {
      name: SAMPLE_API_SERVICE,
      image: args.image
        ? { ref: args.image }
        : { build: { context: APP_DIR, tag: appImageTag() } },
      env: {
        PORT: String(containerPort("api")),
        STATSD_HOST: args.statsdHost,
        STATSD_PORT: pulumi.output(args.statsdPort).apply(String),
        METRICS_STYLE: args.metricsStyle,
        METRIC_PREFIX: args.metricPrefix,
        APP_NAME: args.appName,
        SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      },
      ports: [{ name: "http", port: containerPort("api"), protocol: "tcp", publish: "api" }],
      probe: {
        http: {
          path: "/healthz",
          port: containerPort("api"),
          // node:22-slim has no wget or curl; Node itself can make the request.
          command: ["node", "-e", `fetch('http://127.0.0.1:${containerPort("api")}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
        },
      },
      resources: { cpuRequest: "100m", memoryRequest: "64Mi", cpuLimit: "1", memoryLimit: "256Mi" },
      security: { runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true },
      replicas: args.replicas ?? 1,
      shutdown: { drainSeconds: DRAIN_SECONDS, graceSeconds: DRAIN_SECONDS + SHUTDOWN_TIMEOUT_SECONDS + 5 },
      sidecar: args.sidecar,
    };
    const deployed = args.platform.deploy(name, spec, this);
    this.deployment = deployed;
    this.host = deployed.host;
    this.url = publicUrl(deployed, "api");
    this.registerOutputs({ host: this.host, url: this.url });
  }
}
