/**
 * statsd-stack: a StatsD metrics pipeline for a sample HTTP API, as the `graphite` or `exporter` topology, on Docker
 * or Kubernetes. Configuration is validated before any resource is registered.
 */
import { loadStackConfig } from "./components/config";
import { createPlatform } from "./components/platform";
import { ExporterTopology, GraphiteTopology } from "./components/topologies";
import { GRAFANA_ADMIN_USER } from "./components/grafana";

const config = loadStackConfig();
const target = createPlatform(config);
const stack =
  config.topology === "graphite"
    ? new GraphiteTopology(config.topology, { platform: target, config })
    : new ExporterTopology(config.topology, { platform: target, config });

export const topology = config.topology;
export const platform = config.platform;
export const apiUrl = stack.apiUrl;
export const grafanaUrl = stack.grafanaUrl;
export const grafanaAdminUser = GRAFANA_ADMIN_USER;
export const grafanaAdminPassword = stack.grafanaAdminPassword;
export const graphiteUrl = stack instanceof GraphiteTopology ? stack.graphiteUrl : undefined;
export const prometheusUrl = stack instanceof ExporterTopology ? stack.prometheusUrl : undefined;
export const exporterMetricsUrl = stack instanceof ExporterTopology ? stack.exporterMetricsUrl : undefined;
