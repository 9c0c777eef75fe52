/** The two topologies: the same sample API, wired to a different StatsD backend and dashboard. */
import * as pulumi from "@pulumi/pulumi";
import { graphiteDashboard } from "../dashboards/graphite";
import type { Dashboard } from "../dashboards/model";
import { prometheusDashboard } from "../dashboards/prometheus";
import type { StackConfig } from "./config";
import { GraphiteStatsd } from "./graphite-statsd";
import { Grafana, type GrafanaDatasourceArgs } from "./grafana";
import { DATASOURCE_UIDS } from "../pipeline/settings";
import { Prometheus } from "./prometheus";
import { SampleApi } from "./sample-api";
import { StatsdExporter } from "./statsd-exporter";
import type { Platform } from "./platform/workload";

/** Arguments of both topologies. */
export interface TopologyArgs {
  readonly platform: Platform;
  readonly config: StackConfig;
}

/** What every topology exposes; the stack's outputs. */
export interface TopologyOutputs {
  readonly apiUrl: pulumi.Output<string>;
  /** `host:port` (UDP) where this machine sends StatsD to the topology's backend. */
  readonly statsdEndpoint: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
}

function sampleApi(name: string, args: TopologyArgs, backend: { statsdHost: pulumi.Output<string>; statsdPort: pulumi.Output<number> }, style: "graphite" | "dogstatsd", parent: pulumi.Resource) {
  return new SampleApi(
    `${name}-api`,
    {
      platform: args.platform,
      statsdHost: backend.statsdHost,
      statsdPort: backend.statsdPort,
      metricsStyle: style,
      metricPrefix: args.config.metricPrefix,
      appName: args.config.appName,
      replicas: args.config.appReplicas,
      image: args.config.appImage,
    },
    { parent },
  );
}

/** Grafana with the topology's one datasource and dashboard. */
function grafana(name: string, args: TopologyArgs, datasource: GrafanaDatasourceArgs, dashboard: Dashboard, parent: pulumi.Resource) {
  return new Grafana(
    `${name}-grafana`,
    {
      platform: args.platform,
      image: args.config.images.grafanaImage,
      datasources: [datasource],
      dashboards: [dashboard],
      adminPassword: args.config.grafanaAdminPassword,
    },
    { parent },
  );
}

/** sample API --StatsD--> graphite-statsd <-- Grafana. */
export class GraphiteTopology extends pulumi.ComponentResource implements TopologyOutputs {
  public readonly apiUrl: pulumi.Output<string>;
  public readonly grafanaUrl: pulumi.Output<string>;
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  public readonly graphiteUrl: pulumi.Output<string>;
  public readonly statsdEndpoint: pulumi.Output<string>;
  public readonly statsd: GraphiteStatsd;
  public readonly api: SampleApi;
  public readonly grafana: Grafana;

  constructor(name: string, args: TopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:GraphiteTopology", name, {}, opts);
    this.statsd = new GraphiteStatsd(`${name}-graphite`, { platform: args.platform, image: args.config.images.graphiteImage }, { parent: this });
    this.api = sampleApi(name, args, this.statsd, "graphite", this);
    this.grafana = grafana(
      name,
      args,
      { name: "Graphite", uid: DATASOURCE_UIDS.graphite, type: "graphite", url: this.statsd.webUrl },
      graphiteDashboard(args.config.metricPrefix),
      this,
    );
    this.apiUrl = this.api.url;
    this.grafanaUrl = this.grafana.url;
    this.grafanaAdminPassword = this.grafana.adminPassword;
    this.graphiteUrl = this.statsd.publicUrl;
    this.statsdEndpoint = this.statsd.statsdEndpoint;
    this.registerOutputs({ apiUrl: this.apiUrl, grafanaUrl: this.grafanaUrl, graphiteUrl: this.graphiteUrl, statsdEndpoint: this.statsdEndpoint });
  }
}

/** sample API --DogStatsD--> statsd_exporter <-- Prometheus <-- Grafana. */
export class ExporterTopology extends pulumi.ComponentResource implements TopologyOutputs {
  public readonly apiUrl: pulumi.Output<string>;
  public readonly grafanaUrl: pulumi.Output<string>;
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  public readonly prometheusUrl: pulumi.Output<string>;
  public readonly exporterMetricsUrl: pulumi.Output<string>;
  public readonly statsdEndpoint: pulumi.Output<string>;
  public readonly exporter: StatsdExporter;
  public readonly prometheus: Prometheus;
  public readonly api: SampleApi;
  public readonly grafana: Grafana;

  constructor(name: string, args: TopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:ExporterTopology", name, {}, opts);
    this.exporter = new StatsdExporter(
      `${name}-exporter`,
      { platform: args.platform, image: args.config.images.exporterImage, metricPrefix: args.config.metricPrefix },
      { parent: this },
    );
    this.prometheus = new Prometheus(
      `${name}-prometheus`,
      { platform: args.platform, image: args.config.images.prometheusImage, scrapeTarget: this.exporter.scrapeTarget },
      { parent: this },
    );
    this.api = sampleApi(name, args, this.exporter, "dogstatsd", this);
    this.grafana = grafana(
      name,
      args,
      { name: "Prometheus", uid: DATASOURCE_UIDS.prometheus, type: "prometheus", url: this.prometheus.internalUrl },
      prometheusDashboard(),
      this,
    );
    this.apiUrl = this.api.url;
    this.grafanaUrl = this.grafana.url;
    this.grafanaAdminPassword = this.grafana.adminPassword;
    this.prometheusUrl = this.prometheus.publicUrl;
    this.exporterMetricsUrl = this.exporter.metricsUrl;
    this.statsdEndpoint = this.exporter.statsdEndpoint;
    this.registerOutputs({
      statsdEndpoint: this.statsdEndpoint,
      apiUrl: this.apiUrl,
      grafanaUrl: this.grafanaUrl,
      prometheusUrl: this.prometheusUrl,
      exporterMetricsUrl: this.exporterMetricsUrl,
    });
  }
}
