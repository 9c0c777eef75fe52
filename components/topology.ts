/**
 * A topology: the sample API wired to a StatsD backend, and Grafana with the backend's datasources and dashboards.
 * The backend (components/backends/) is the only part that differs between topologies.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Topology as TopologyName } from "../pipeline/topologies";
import { rootAlias } from "./aliases";
import { statsdIngest, type Backend, type BackendArgs } from "./backend";
import { exporterBackend } from "./backends/exporter";
import { graphiteBackend } from "./backends/graphite";
import { Grafana, GRAFANA_ADMIN_USER } from "./grafana";
import { SampleApi } from "./sample-api";

/** Each topology's backend. */
export const BACKENDS: Readonly<Record<TopologyName, Backend>> = { graphite: graphiteBackend, exporter: exporterBackend };

/** Arguments of {@link Topology}: the platform every workload runs on and the config, whose `topology` picks the backend. */
export type TopologyArgs = BackendArgs;

/** The stack outputs every topology has; a backend adds its own (see {@link DeployedBackend}). */
export interface TopologyOutputs {
  /** The sample API on this machine. */
  readonly apiUrl: pulumi.Output<string>;
  /** Grafana on this machine. */
  readonly grafanaUrl: pulumi.Output<string>;
  /** `host:port` (UDP) where this machine sends StatsD: for a team's own metrics. */
  readonly statsdEndpoint: pulumi.Output<string>;
  readonly grafanaAdminUser: pulumi.Output<string>;
  /** Grafana's admin password (a secret). */
  readonly grafanaAdminPassword: pulumi.Output<string>;
}

/** sample API --StatsD--> backend <-- Grafana, in the topology the stack's config names. */
export class Topology extends pulumi.ComponentResource {
  public readonly api: SampleApi;
  public readonly grafana: Grafana;
  /** Every stack output of the topology, common and backend's, listed once. */
  public readonly outputs: TopologyOutputs & Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: TopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    const { platform, config } = args;
    // Before one Topology component there was a class per topology, named after it at the root of the stack; its
    // children (`graphite-api`, ...) follow this alias by their names (`pipeline-api`, ...).
    const legacyType = `statsd-stack:index:${config.topology === "graphite" ? "Graphite" : "Exporter"}Topology`;
    super("statsd-stack:index:Topology", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), rootAlias(config.topology, legacyType)] });

    const backend = BACKENDS[config.topology].deploy(name, { platform, config }, this);
    const { statsd } = backend;
    this.api = new SampleApi(
      `${name}-api`,
      {
        platform,
        statsdHost: "service" in statsd ? statsd.service.statsdHost : statsd.sidecar.statsdHost,
        statsdPort: "service" in statsd ? statsd.service.statsdPort : statsd.sidecar.statsdPort,
        sidecar: "sidecar" in statsd ? statsd.sidecar.sidecar : undefined,
        metricsStyle: backend.metricsStyle,
        metricPrefix: config.metricPrefix,
        appName: config.appName,
        replicas: config.appReplicas,
        image: config.appImage,
      },
      { parent: this },
    );
    this.grafana = new Grafana(
      `${name}-grafana`,
      {
        platform,
        image: config.images.grafanaImage,
        datasources: backend.datasources,
        dashboards: backend.dashboards,
        adminPassword: config.grafanaAdminPassword,
        // Grafana evaluates the graphite topology's service alerts; the exporter topology's are Prometheus's rules.
        alerting:
          config.topology === "graphite"
            ? {
                appName: config.appName,
                metricPrefix: config.metricPrefix,
                thresholds: config.alertThresholds,
                routing: config.alertRouting,
                webhookUrl: config.alertWebhookUrl,
              }
            : undefined,
      },
      { parent: this },
    );
    // A sidecar publishes its StatsD port with the app's replicas: this machine's lines reach one replica's.
    const ingest = "service" in statsd ? statsd.service : statsdIngest(this.api.deployment, statsd.sidecar.statsdPort);
    this.outputs = {
      apiUrl: this.api.url,
      grafanaUrl: this.grafana.url,
      statsdEndpoint: ingest.statsdEndpoint,
      grafanaAdminUser: pulumi.output(GRAFANA_ADMIN_USER),
      grafanaAdminPassword: this.grafana.adminPassword,
      ...backend.outputs,
      ...("sidecar" in statsd ? statsd.sidecar.outputs(this.api.deployment) : {}),
    };
    this.registerOutputs(this.outputs);
  }
}
