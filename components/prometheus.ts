/** Prometheus scraping the exporter, with the generated configuration and rules. */
import * as pulumi from "@pulumi/pulumi";
import type { OwnRules } from "../pipeline/extensions";
import {
  type DnsTargets,
  ownRulesFile,
  PROMETHEUS_CONFIG_PATH,
  PROMETHEUS_OWN_RULES_PATH,
  PROMETHEUS_RULES_PATH,
  PROMETHEUS_SERVICE,
  prometheusArgs,
  prometheusConfigYaml,
} from "../pipeline/prometheus";
import { prometheusRulesYaml, type AlertThresholds } from "../pipeline/rules";
import { containerPort } from "../pipeline/ports";
import { publicUrl, type Platform, type WorkloadResources, type WorkloadSpec } from "./platform/workload";

/** Seconds Prometheus gets from SIGTERM to SIGKILL (Docker's stop timeout, the pod's grace period). */
export const PROMETHEUS_STOP_SECONDS = 60;

/** Prometheus's resources (bench:flood measured 69 MiB of the 512 MiB limit after 20,000 new names). */
export const PROMETHEUS_RESOURCES: WorkloadResources = { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "512Mi" };

/** Arguments of {@link Prometheus}. */
export interface PrometheusArgs {
  /** Where it runs. */
  readonly platform: Platform;
  /** The prom/prometheus image (version 3: the dashboards use its anchored increase). */
  readonly image: pulumi.Input<string>;
  /** The exporter's `host:port` (the exporter component's output), or the DNS name of the app replicas' sidecars. */
  readonly exporters: { readonly static: pulumi.Input<string> } | { readonly dns: DnsTargets };
  /** The app the rules expect to report (AppNotReporting fires without it): the stack's `appName`. */
  readonly appName: string;
  /** The service alerts' thresholds, from the stack config. */
  readonly alertThresholds: AlertThresholds;
  /** `host:port` of Alertmanager: the Alertmanager component's output. */
  readonly alertmanagerTarget: pulumi.Input<string>;
  /** `--storage.tsdb.retention.size` (config `prometheusRetentionSize`); undefined: retention by time only. */
  readonly retentionSize?: string;
  /** `--storage.tsdb.retention.time` (config `prometheusRetentionTime`). */
  readonly retentionTime: string;
  /** A team's own rule file (config `prometheusRulesFile`), checked; delivered beside the generated rules. */
  readonly ownRules?: OwnRules;
  /** What the TSDB's volume claim requests on Kubernetes (config `prometheusStorageSize`). */
  readonly storageSize: string;
}

/**
 * Prometheus 3 scraping statsd_exporter, with the generated prometheus.yml and rule file (recording rules and alerts,
 * pipeline/rules.ts) and its TSDB on a data volume; it sends its alerts to Alertmanager.
 */
export class Prometheus extends pulumi.ComponentResource {
  /** Prometheus inside the network, for Grafana's datasource. */
  public readonly internalUrl: pulumi.Output<string>;
  public readonly publicUrl: pulumi.Output<string>;

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:Prometheus", name, {}, opts);
    const port = containerPort("prometheus");
    const spec: WorkloadSpec = {
      name: PROMETHEUS_SERVICE,
      image: { ref: args.image },
      args: prometheusArgs({
        configPath: PROMETHEUS_CONFIG_PATH,
        dataDir: "/prometheus",
        listenAddress: `:${port}`,
        retentionTime: args.retentionTime,
        retentionSize: args.retentionSize,
      }),
      ports: [{ name: "web", port, protocol: "tcp", publish: "prometheus" }],
      files: [
        {
          path: PROMETHEUS_CONFIG_PATH,
          content: pulumi
            .all(["static" in args.exporters ? args.exporters.static : undefined, args.alertmanagerTarget])
            .apply(([exporterTarget, alertmanagerTarget]) =>
              prometheusConfigYaml({
                exporters: "static" in args.exporters ? { static: exporterTarget! } : args.exporters,
                selfTarget: `localhost:${port}`,
                alertmanagerTarget,
                ownRules: args.ownRules !== undefined,
              }),
            ),
        },
        // prometheus.yml names it relative to itself: it must sit in the same folder.
        {
          path: PROMETHEUS_RULES_PATH,
          content: prometheusRulesYaml({ appName: args.appName, thresholds: args.alertThresholds, retentionSize: args.retentionSize }),
        },
        // The team's own, beside it: prometheus.yml names both.
        ...(args.ownRules === undefined ? [] : [{ path: PROMETHEUS_OWN_RULES_PATH, content: ownRulesFile(args.ownRules.path, args.ownRules.text) }]),
      ],
      dataPaths: ["/prometheus"],
      dataSize: args.storageSize,
      probe: { http: { path: "/-/ready", port } },
      resources: PROMETHEUS_RESOURCES,
      security: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
      // On SIGTERM Prometheus finishes its scrapes and rule evaluations and closes the TSDB (WAL and head chunks on
      // disk). Docker's default of 10 s can cut that short on a loaded 2-core host; nothing needs draining first.
      shutdown: { drainSeconds: 0, graceSeconds: PROMETHEUS_STOP_SECONDS },
    };
    const deployed = args.platform.deploy(name, spec, this);
    this.internalUrl = deployed.internalUrl("web");
    this.publicUrl = publicUrl(deployed, "prometheus");
    this.registerOutputs({ internalUrl: this.internalUrl, publicUrl: this.publicUrl });
  }
}
