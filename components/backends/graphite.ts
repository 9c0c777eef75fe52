/** The graphite topology's backend: graphite-statsd (Etsy statsd, carbon, graphite-web) read by Grafana's Graphite datasource. */
import * as pulumi from "@pulumi/pulumi";
import { graphiteDashboard } from "../../dashboards/graphite";
import { graphiteHealthDashboard } from "../../dashboards/pipeline-health-graphite";
import { GRAPHITE_ADMIN_USER } from "../../pipeline/graphite-web";
import { DATASOURCE_UIDS } from "../../pipeline/settings";
import type { Backend } from "../backend";
import { GraphiteStatsd } from "../graphite-statsd";

export const graphiteBackend: Backend = {
  deploy(name, { platform, config }, parent) {
    const graphite = new GraphiteStatsd(
      `${name}-graphite`,
      {
        platform,
        image: config.images.graphiteImage,
        retentions: config.graphiteRetentions,
        ownSchemas: config.extensions.graphiteSchemas,
        ownAggregation: config.extensions.graphiteAggregation,
        adminPassword: config.graphiteAdminPassword,
        ownMetricsExpiry: { expiry: config.graphiteOwnMetricsExpiry, metricPrefix: config.metricPrefix },
        ownMetricsPruneAfter: { pruneAfter: config.graphiteOwnMetricsPruneAfter, metricPrefix: config.metricPrefix },
        receiveBufferBytes: config.statsdReceiveBuffer,
        storageSize: config.storage.sizes.graphiteStorageSize,
      },
      { parent },
    );
    return {
      statsd: { service: graphite.ingest },
      metricsStyle: "graphite",
      datasources: [{ name: "Graphite", uid: DATASOURCE_UIDS.graphite, type: "graphite", url: graphite.webUrl }],
      // The app dashboard first: it is Grafana's home dashboard.
      dashboards: [graphiteDashboard(config.metricPrefix), graphiteHealthDashboard()],
      outputs: {
        graphiteUrl: graphite.publicUrl,
        graphiteAdminUser: pulumi.output(GRAPHITE_ADMIN_USER),
        graphiteAdminPassword: graphite.adminPassword,
      },
    };
  },
};
