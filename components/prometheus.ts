/** Prometheus scraping the exporter, with the generated configuration. */
import * as pulumi from "@pulumi/pulumi";
import { prometheusConfigYaml } from "./pipeline/prometheus-config";
import { PORTS } from "./ports";
import { publicUrl, type Platform, type WorkloadSpec } from "./workload";

/** Arguments of {@link Prometheus}. */
export interface PrometheusArgs {
  readonly platform: Platform;
  readonly image: pulumi.Input<string>;
  /** `host:port` of the exporter: the exporter component's output. */
  readonly scrapeTarget: pulumi.Input<string>;
}

export const PROMETHEUS_SERVICE = "prometheus";
export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";

/**
 * Prometheus 3 features the dashboards rely on for exact counts: `increase(...[range] anchored)` (no extrapolation to
 * the range's edges), and a zero sample at each series' created timestamp, which statsd_exporter reports (in the
 * protobuf exposition Prometheus then prefers), so the first value of a new series is counted too.
 */
export const PROMETHEUS_FEATURES = ["promql-extended-range-selectors", "created-timestamp-zero-ingestion"] as const;

/** Prometheus's command line: shared with the end-to-end harness, which runs the real binary with it. */
export function prometheusArgs(o: { configPath: string; dataDir: string; listenAddress: string }): string[] {
  return [
    `--config.file=${o.configPath}`,
    `--storage.tsdb.path=${o.dataDir}`,
    "--storage.tsdb.retention.time=7d",
    `--web.listen-address=${o.listenAddress}`,
    `--enable-feature=${PROMETHEUS_FEATURES.join(",")}`,
  ];
}

export class Prometheus extends pulumi.ComponentResource {
  /** Prometheus inside the network, for Grafana's datasource. */
  public readonly internalUrl: pulumi.Output<string>;
  public readonly publicUrl: pulumi.Output<string>;
  public readonly spec: WorkloadSpec;

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:Prometheus", name, {}, opts);
    const port = PORTS.prometheus.containerPort;
    this.spec = {
      name: PROMETHEUS_SERVICE,
      image: { ref: args.image },
      args: prometheusArgs({ configPath: PROMETHEUS_CONFIG_PATH, dataDir: "/prometheus", listenAddress: `:${port}` }),
      ports: [{ name: "web", port, protocol: "tcp", publish: "prometheus" }],
      files: [
        {
          path: PROMETHEUS_CONFIG_PATH,
          content: pulumi
            .output(args.scrapeTarget)
            .apply((exporterTarget) => prometheusConfigYaml({ exporterTarget, selfTarget: `localhost:${port}` })),
        },
      ],
      dataPaths: ["/prometheus"],
      probe: { http: { path: "/-/ready", port } },
      resources: { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "512Mi" },
      security: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
    };
    const deployed = args.platform.deploy(name, this.spec, this);
    this.internalUrl = deployed.internalUrl("web");
    this.publicUrl = publicUrl(deployed, "prometheus");
    this.registerOutputs({ internalUrl: this.internalUrl, publicUrl: this.publicUrl });
  }
}
