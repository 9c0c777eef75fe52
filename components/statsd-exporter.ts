/** prom/statsd-exporter with the mapping generated from the metric catalog. */
import * as pulumi from "@pulumi/pulumi";
import { exporterMappingYaml } from "./pipeline/exporter-mapping";
import { PORTS } from "./ports";
import { publicUrl, type Platform, type WorkloadSpec } from "./workload";

/** Arguments of {@link StatsdExporter}. */
export interface StatsdExporterArgs {
  readonly platform: Platform;
  readonly image: pulumi.Input<string>;
  /** The app's metric prefix: the mapping matches `<prefix>.<metric>`. */
  readonly metricPrefix: string;
}

export const EXPORTER_SERVICE = "statsd-exporter";
/** statsd_exporter's own StatsD port (the image's default). */
export const EXPORTER_STATSD_PORT = 9125;
export const MAPPING_PATH = "/etc/statsd-exporter/mapping.yml";

/** statsd_exporter's command line: shared with the end-to-end harness, which runs the real binary with it. */
export function exporterArgs(o: { mappingPath: string; statsdListen: string; webListen: string }): string[] {
  return [
    `--statsd.mapping-config=${o.mappingPath}`,
    `--statsd.listen-udp=${o.statsdListen}`,
    `--statsd.listen-tcp=${o.statsdListen}`,
    `--web.listen-address=${o.webListen}`,
  ];
}

/** Receives DogStatsD and exposes it as Prometheus metrics. */
export class StatsdExporter extends pulumi.ComponentResource {
  public readonly statsdHost: pulumi.Output<string>;
  public readonly statsdPort: pulumi.Output<number>;
  /** `host:port` Prometheus scrapes. */
  public readonly scrapeTarget: pulumi.Output<string>;
  /** /metrics on this machine. */
  public readonly metricsUrl: pulumi.Output<string>;
  /** `host:port` of the StatsD ingest on this machine (UDP), for users' own metrics. */
  public readonly statsdEndpoint: pulumi.Output<string>;
  public readonly spec: WorkloadSpec;

  constructor(name: string, args: StatsdExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:StatsdExporter", name, {}, opts);
    this.spec = {
      name: EXPORTER_SERVICE,
      image: { ref: args.image },
      args: exporterArgs({
        mappingPath: MAPPING_PATH,
        statsdListen: `:${EXPORTER_STATSD_PORT}`,
        webListen: `:${PORTS.exporterWeb.containerPort}`,
      }),
      ports: [
        { name: "statsd", port: EXPORTER_STATSD_PORT, protocol: "udp", publish: "statsd" },
        { name: "web", port: PORTS.exporterWeb.containerPort, protocol: "tcp", publish: "exporterWeb" },
      ],
      files: [{ path: MAPPING_PATH, content: exporterMappingYaml(args.metricPrefix) }],
      probe: { http: { path: "/-/healthy", port: PORTS.exporterWeb.containerPort } },
      resources: { cpuRequest: "50m", memoryRequest: "32Mi", cpuLimit: "500m", memoryLimit: "128Mi" },
      security: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
    };
    const deployed = args.platform.deploy(name, this.spec, this);
    this.statsdHost = deployed.host;
    this.statsdPort = pulumi.output(EXPORTER_STATSD_PORT);
    this.scrapeTarget = pulumi.interpolate`${deployed.host}:${PORTS.exporterWeb.containerPort}`;
    this.metricsUrl = pulumi.interpolate`${publicUrl(deployed, "exporterWeb")}/metrics`;
    this.statsdEndpoint = deployed.publicAddress("statsd");
    this.registerOutputs({
      statsdHost: this.statsdHost,
      statsdPort: this.statsdPort,
      scrapeTarget: this.scrapeTarget,
      metricsUrl: this.metricsUrl,
      statsdEndpoint: this.statsdEndpoint,
    });
  }
}
