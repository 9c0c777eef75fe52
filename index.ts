/**
 * statsd-stack: a StatsD metrics pipeline for a sample HTTP API, as the `graphite` or `exporter` topology, on Docker
 * or Kubernetes. Configuration is validated before any resource is registered.
 */
import { loadStackConfig } from "./components/config";
import { GRAFANA_ADMIN_USER } from "./components/grafana";
import { createPlatform } from "./components/platform";
import { ExporterTopology, GraphiteTopology } from "./components/topologies";

const config = loadStackConfig();
const platform = createPlatform(config);
const common = { platform, config };

/** The stack's outputs: the URLs to open, and the topology's own backends. */
const outputs: Record<string, unknown> = {
  topology: config.topology,
  platform: config.platform,
  // What `npm run smoke` needs to find this stack's series.
  appName: config.appName,
  metricPrefix: config.metricPrefix,
};
if (config.topology === "graphite") {
  const stack = new GraphiteTopology(config.topology, common);
  Object.assign(outputs, {
    apiUrl: stack.apiUrl,
    grafanaUrl: stack.grafanaUrl,
    graphiteUrl: stack.graphiteUrl,
    statsdEndpoint: stack.statsdEndpoint,
    grafanaAdminPassword: stack.grafanaAdminPassword,
  });
} else {
  const stack = new ExporterTopology(config.topology, common);
  Object.assign(outputs, {
    apiUrl: stack.apiUrl,
    grafanaUrl: stack.grafanaUrl,
    prometheusUrl: stack.prometheusUrl,
    exporterMetricsUrl: stack.exporterMetricsUrl,
    statsdEndpoint: stack.statsdEndpoint,
    grafanaAdminPassword: stack.grafanaAdminPassword,
  });
}
outputs.grafanaAdminUser = GRAFANA_ADMIN_USER;

export = outputs;
