/** prom/statsd-exporter with the mapping generated from the metric catalog. */
import * as pulumi from "@pulumi/pulumi";
import { statsdIngest, type StatsdIngest } from "./backend";
import { EXPORTER_SERVICE, exporterArgs, exporterMappingYaml, MAPPING_PATH } from "../pipeline/exporter";
import type { OwnMapping } from "../pipeline/extensions";
import { containerPort } from "../pipeline/ports";
import { publicUrl, type Platform, type WorkloadSpec } from "./platform/workload";

/** Arguments of {@link StatsdExporter}. */
export interface StatsdExporterArgs {
  /** Where it runs. */
  readonly platform: Platform;
  /** The prom/statsd-exporter image. */
  readonly image: pulumi.Input<string>;
  /** The app's metric prefix: the mapping matches `<prefix>.<metric>`. */
  readonly metricPrefix: pulumi.Input<string>;
  /** How long a series outside the catalog lives after its last event (a Go duration; "0s": never). */
  readonly ownMetricsTtl: string;
  /** A team's own mappings (config `exporterMappings`), after the catalog's. */
  readonly ownMappings?: readonly OwnMapping[];
  /** The StatsD socket's receive buffer in bytes (config `statsdReceiveBuffer`); 0 or unset: the kernel's default. */
  readonly receiveBufferBytes?: number;
}

/** Receives DogStatsD and exposes it as Prometheus metrics. */
export class StatsdExporter extends pulumi.ComponentResource {
  /** Where the app and this machine send StatsD. */
  public readonly ingest: StatsdIngest;
  /** `host:port` Prometheus scrapes. */
  public readonly scrapeTarget: pulumi.Output<string>;
  /** /metrics on this machine. */
  public readonly metricsUrl: pulumi.Output<string>;

  constructor(name: string, args: StatsdExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:StatsdExporter", name, {}, opts);
    const spec: WorkloadSpec = {
      name: EXPORTER_SERVICE,
      image: { ref: args.image },
      args: exporterArgs({
        mappingPath: MAPPING_PATH,
        statsdListen: `:${containerPort("statsd", "exporter")}`,
        webListen: `:${containerPort("exporterWeb")}`,
        readBufferBytes: args.receiveBufferBytes,
      }),
      ports: [
        { name: "statsd", port: containerPort("statsd", "exporter"), protocol: "udp", publish: "statsd" },
        { name: "web", port: containerPort("exporterWeb"), protocol: "tcp", publish: "exporterWeb" },
      ],
      files: [{ path: MAPPING_PATH, content: pulumi.output(args.metricPrefix).apply((prefix) => exporterMappingYaml(prefix, args.ownMetricsTtl, args.ownMappings)) }],
      probe: { http: { path: "/-/healthy", port: containerPort("exporterWeb") } },
      // statsd_exporter parses every line: about 0.9 of a core at 200,000 lines/s (npm run bench:ingest). Half a core,
      // the limit before, lost lines from about 100,000 lines/s on.
      resources: { cpuRequest: "50m", memoryRequest: "32Mi", cpuLimit: "1", memoryLimit: "128Mi" },
      security: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
    };
    const deployed = args.platform.deploy(name, spec, this);
    this.ingest = statsdIngest(deployed, containerPort("statsd", "exporter"));
    this.scrapeTarget = pulumi.interpolate`${deployed.host}:${containerPort("exporterWeb")}`;
    this.metricsUrl = pulumi.interpolate`${publicUrl(deployed, "exporterWeb")}/metrics`;
    this.registerOutputs({
      ...this.ingest,
      scrapeTarget: this.scrapeTarget,
      metricsUrl: this.metricsUrl,
    });
  }
}
