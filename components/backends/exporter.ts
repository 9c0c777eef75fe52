/**
 * The exporter topology's backend: statsd_exporter scraped by Prometheus, read by Grafana's Prometheus datasource;
 * Prometheus's alerts go to Alertmanager.
 */
import { exporterHealthDashboard } from "../../dashboards/pipeline-health-prometheus";
import { prometheusDashboard } from "../../dashboards/prometheus";
import { DATASOURCE_UIDS } from "../../pipeline/settings";
import * as pulumi from "@pulumi/pulumi";
import { containerPort } from "../../pipeline/ports";
import type { Backend, DeployedBackend } from "../backend";
import { publicUrl } from "../platform/workload";
import { SAMPLE_API_SERVICE } from "../sample-api";
import { Alertmanager } from "../alertmanager";
import { Prometheus } from "../prometheus";
import { StatsdExporter, statsdExporterSidecar, type StatsdExporterSettings } from "../statsd-exporter";

export const exporterBackend: Backend = {
  deploy(name, { platform, config }, parent) {
    const settings: StatsdExporterSettings = {
      image: config.images.exporterImage,
      metricPrefix: config.metricPrefix,
      ownMetricsTtl: config.exporterOwnMetricsTtl,
      ownMappings: config.extensions.exporterMappings,
      receiveBufferBytes: config.statsdReceiveBuffer,
    };
    const webPort = containerPort("exporterWeb");
    // Central: one exporter, a static target. Sidecar: one beside each app replica, each found by DNS.
    const exporter = config.exporterMode === "central" ? new StatsdExporter(`${name}-exporter`, { platform, ...settings }, { parent }) : undefined;
    const statsd: DeployedBackend["statsd"] = exporter
      ? { service: exporter.ingest }
      : {
          sidecar: {
            sidecar: statsdExporterSidecar(settings),
            statsdHost: "127.0.0.1",
            statsdPort: containerPort("statsd", "exporter"),
            outputs: (app) => ({ exporterMetricsUrl: pulumi.interpolate`${publicUrl(app, "exporterWeb")}/metrics` }),
          },
        };
    const alertmanager = new Alertmanager(
      `${name}-alertmanager`,
      {
        platform,
        image: config.images.alertmanagerImage,
        routing: config.alertRouting,
        webhookUrl: config.alertWebhookUrl,
        storageSize: config.storage.sizes.alertmanagerStorageSize,
      },
      { parent },
    );
    const prometheus = new Prometheus(
      `${name}-prometheus`,
      {
        platform,
        image: config.images.prometheusImage,
        exporters: exporter ? { static: exporter.scrapeTarget } : { dns: { name: platform.replicasHost(SAMPLE_API_SERVICE), port: webPort } },
        appName: config.appName,
        alertThresholds: config.alertThresholds,
        alertmanagerTarget: alertmanager.target,
        retentionSize: config.prometheusRetentionSize,
        retentionTime: config.prometheusRetentionTime,
        ownRules: config.extensions.prometheusRules,
        storageSize: config.storage.sizes.prometheusStorageSize,
      },
      { parent },
    );
    return {
      statsd,
      metricsStyle: "dogstatsd",
      datasources: [{ name: "Prometheus", uid: DATASOURCE_UIDS.prometheus, type: "prometheus", url: prometheus.internalUrl }],
      // The app dashboard first: it is Grafana's home dashboard.
      dashboards: [prometheusDashboard(), exporterHealthDashboard()],
      outputs: {
        prometheusUrl: prometheus.publicUrl,
        alertmanagerUrl: alertmanager.publicUrl,
        ...(exporter ? { exporterMetricsUrl: exporter.metricsUrl } : {}),
      },
    };
  },
};
