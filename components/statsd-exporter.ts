/** prom/statsd-exporter with the mapping generated from the metric catalog: one for the stack, or one beside each app replica. */
import * as pulumi from "@pulumi/pulumi";
import { statsdIngest, type StatsdIngest } from "./backend";
import { EXPORTER_SERVICE, exporterArgs, exporterMappingYaml, MAPPING_PATH } from "../pipeline/exporter";
import type { OwnMapping } from "../pipeline/extensions";
import { containerPort } from "../pipeline/ports";
import { SCRAPE_INTERVAL_SECONDS } from "../pipeline/settings";
import { publicUrl, type Platform, type WorkloadResources, type WorkloadSidecar, type WorkloadSpec } from "./platform/workload";

/** What statsd_exporter is given, wherever it runs. */
export interface StatsdExporterSettings {
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

/** Arguments of {@link StatsdExporter}. */
export interface StatsdExporterArgs extends StatsdExporterSettings {
  /** Where it runs. */
  readonly platform: Platform;
}

/**
 * How long a sidecar exporter outlives its app replica: the app hands over its last lines as it exits, and
 * Prometheus, scraping every {@link SCRAPE_INTERVAL_SECONDS} s, must scrape once more after that. Three intervals: at
 * least two scrapes, so that one late or failed scrape on a loaded node loses nothing.
 */
export const SIDECAR_OUTLIVE_SECONDS = 3 * SCRAPE_INTERVAL_SECONDS;

/**
 * statsd_exporter acts on SIGTERM and SIGINT only; Go's runtime ignores SIGWINCH. Docker stops a sidecar exporter
 * with it, so that it keeps serving until killed {@link SIDECAR_OUTLIVE_SECONDS} later.
 */
const IGNORED_SIGNAL = "SIGWINCH";

/**
 * statsd_exporter's requests and limits. It parses every line: about 0.9 of a core at 200,000 lines/s (npm run
 * bench:ingest); half a core, the limit before, lost lines from about 100,000 lines/s on.
 */
export const EXPORTER_RESOURCES: WorkloadResources = { cpuRequest: "50m", memoryRequest: "32Mi", cpuLimit: "1", memoryLimit: "128Mi" };

/** The exporter's container, described once for both modes. */
function exporterContainer(s: StatsdExporterSettings): Omit<WorkloadSidecar, "name" | "outliveSeconds" | "lingerSignal"> {
  return {
    image: { ref: s.image },
    args: exporterArgs({
      mappingPath: MAPPING_PATH,
      statsdListen: `:${containerPort("statsd", "exporter")}`,
      webListen: `:${containerPort("exporterWeb")}`,
      readBufferBytes: s.receiveBufferBytes,
    }),
    ports: [
      { name: "statsd", port: containerPort("statsd", "exporter"), protocol: "udp", publish: "statsd" },
      { name: "web", port: containerPort("exporterWeb"), protocol: "tcp", publish: "exporterWeb" },
    ],
    files: [{ path: MAPPING_PATH, content: pulumi.output(s.metricPrefix).apply((prefix) => exporterMappingYaml(prefix, s.ownMetricsTtl, s.ownMappings)) }],
    probe: { http: { path: "/-/healthy", port: containerPort("exporterWeb") } },
    resources: EXPORTER_RESOURCES,
    security: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
  };
}

/** statsd_exporter as the sidecar of each app replica (config `exporterMode: sidecar`): the app sends to it on localhost. */
export function statsdExporterSidecar(s: StatsdExporterSettings): WorkloadSidecar {
  return { name: EXPORTER_SERVICE, ...exporterContainer(s), outliveSeconds: SIDECAR_OUTLIVE_SECONDS, lingerSignal: IGNORED_SIGNAL };
}

/** Receives DogStatsD and exposes it as Prometheus metrics: the one exporter of every app replica (config `exporterMode: central`). */
export class StatsdExporter extends pulumi.ComponentResource {
  /** Where the app and this machine send StatsD. */
  public readonly ingest: StatsdIngest;
  /** `host:port` Prometheus scrapes. */
  public readonly scrapeTarget: pulumi.Output<string>;
  /** /metrics on this machine. */
  public readonly metricsUrl: pulumi.Output<string>;

  constructor(name: string, args: StatsdExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:StatsdExporter", name, {}, opts);
    const spec: WorkloadSpec = { name: EXPORTER_SERVICE, ...exporterContainer(args) };
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
