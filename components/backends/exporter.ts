/**
 * The exporter topology's backend: statsd_exporter scraped by Prometheus, read by Grafana's Prometheus datasource;
 * Prometheus's alerts go to Alertmanager.
 */
import { exporterHealthDashboard } from "../../dashboards/pipeline-health-prometheus";
import { prometheusDashboard } from "../../dashboards/prometheus";
import { DATASOURCE_UIDS } from "../../pipeline/settings";
import type { Backend } from "../backend";
import { Alertmanager } from "../alertmanager";
import { Prometheus } from "../prometheus";
import { StatsdExporter } from "../statsd-exporter";

export const exporterBackend: Backend = {
  deploy(name, { platform, config }, parent) {
    const exporter = new StatsdExporter(
      `${name}-exporter`,
      {
        platform,
        image: config.images.exporterImage,
        metricPrefix: config.metricPrefix,
        ownMetricsTtl: config.exporterOwnMetricsTtl,
        ownMappings: config.extensions.exporterMappings,
        receiveBufferBytes: config.statsdReceiveBuffer,
      },
      { parent },
    );
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
        scrapeTarget: exporter.scrapeTarget,
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
      ingest: exporter.ingest,
      metricsStyle: "dogstatsd",
      datasources: [{ name: "Prometheus", uid: DATASOURCE_UIDS.prometheus, type: "prometheus", url: prometheus.internalUrl }],
      // The app dashboard first: it is Grafana's home dashboard.
      dashboards: [prometheusDashboard(), exporterHealthDashboard()],
      outputs: { prometheusUrl: prometheus.publicUrl, alertmanagerUrl: alertmanager.publicUrl, exporterMetricsUrl: exporter.metricsUrl },
    };
  },
};
