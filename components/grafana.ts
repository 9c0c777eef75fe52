/**
 * Grafana with only the topology's datasources and dashboards provisioned (and, when given, alert rules with their
 * notifications), anonymous read-only access, and a secret admin password.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Dashboard } from "../dashboards/model";
import { DASHBOARDS_DIR, dashboardProvidersYaml, datasourcesYaml, type DatasourceSpec } from "../pipeline/grafana";
import { GRAFANA_ALERTING_DIR, grafanaAlertingFiles, WEBHOOK_URL_ENV, type GrafanaAlertingArgs } from "../pipeline/grafana-alerting";
import { containerPort } from "../pipeline/ports";
import { publicUrl, type Platform, type WorkloadSpec } from "./platform/workload";

/** A datasource whose URL is another component's output. */
export interface GrafanaDatasourceArgs extends Omit<DatasourceSpec, "url"> {
  /** The backend's URL inside the stack's network: the backend component's output. */
  readonly url: pulumi.Input<string>;
}

/** Grafana-managed alert rules and where their notifications go: pipeline/grafana-alerting.ts's, with the stack's URL. */
export interface GrafanaAlertingConfig extends Omit<GrafanaAlertingArgs, "webhook"> {
  /** Where notifications go (a secret); undefined: Grafana shows the alerts and sends them nowhere. */
  readonly webhookUrl?: pulumi.Output<string>;
}

/** Arguments of {@link Grafana}. */
export interface GrafanaArgs {
  /** Where it runs. */
  readonly platform: Platform;
  /** The grafana/grafana image. */
  readonly image: pulumi.Input<string>;
  /** The datasources of this topology only; the first is the default. */
  readonly datasources: readonly GrafanaDatasourceArgs[];
  /** Dashboards to provision; the first is the home dashboard. */
  readonly dashboards: readonly Dashboard[];
  /** The admin password; when unset a random one is generated and kept in state as a secret. */
  readonly adminPassword?: pulumi.Input<string>;
  /** Alert rules for Grafana to evaluate, provisioned beside the dashboards; undefined: none. */
  readonly alerting?: GrafanaAlertingConfig;
}

export const GRAFANA_SERVICE = "grafana";
export const GRAFANA_ADMIN_USER = "admin";

/** Grafana with the given datasources and dashboards provisioned from files, anonymous Viewer access and a secret admin password. */
export class Grafana extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  /** The admin password (a secret). */
  public readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:Grafana", name, {}, opts);
    if (args.dashboards.length === 0) throw new Error("Grafana needs at least one dashboard");

    this.adminPassword = pulumi.secret(
      args.adminPassword ??
        new random.RandomPassword(`${name}-admin-password`, { length: 24, special: false }, { parent: this }).result,
    );

    // Grafana encrypts the secrets it stores (datasource passwords, contact point settings) with it; the image's
    // default is one fixed text for every install.
    const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, { parent: this }).result;

    const datasources = pulumi
      .all(args.datasources.map((ds) => pulumi.output(ds.url)))
      .apply((urls) => datasourcesYaml(args.datasources.map((ds, i) => ({ ...ds, url: urls[i]! }))));
    const dashboardPath = (d: Dashboard) => `${DASHBOARDS_DIR}/${d.uid}.json`;
    const port = containerPort("grafana");
    const alerting = args.alerting;
    const alertingFiles = alerting ? grafanaAlertingFiles({ ...alerting, webhook: alerting.webhookUrl !== undefined }) : {};

    const spec: WorkloadSpec = {
      name: GRAFANA_SERVICE,
      image: { ref: args.image },
      env: {
        GF_SERVER_HTTP_PORT: String(port),
        GF_SECURITY_ADMIN_USER: GRAFANA_ADMIN_USER,
        GF_AUTH_ANONYMOUS_ENABLED: "true",
        GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer",
        GF_USERS_ALLOW_SIGN_UP: "false",
        GF_SECURITY_DISABLE_GRAVATAR: "true",
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
        GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
        GF_NEWS_NEWS_FEED_ENABLED: "false",
        // Logs go to stdout only (`docker logs`, `kubectl logs`): the image's default also writes /var/log/grafana,
        // which a read-only root filesystem does not allow.
        GF_LOG_MODE: "console",
        GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: dashboardPath(args.dashboards[0]!),
      },
      secretEnv: {
        GF_SECURITY_ADMIN_PASSWORD: this.adminPassword,
        GF_SECURITY_SECRET_KEY: pulumi.secret(secretKey),
        // The contact point file refers to the webhook URL by this variable: the URL stays out of the files.
        ...(alerting?.webhookUrl ? { [WEBHOOK_URL_ENV]: pulumi.secret(alerting.webhookUrl) } : {}),
      },
      ports: [{ name: "http", port, protocol: "tcp", publish: "grafana" }],
      files: [
        { path: "/etc/grafana/provisioning/datasources/statsd-stack.yaml", content: datasources },
        { path: "/etc/grafana/provisioning/dashboards/statsd-stack.yaml", content: dashboardProvidersYaml() },
        ...args.dashboards.map((d) => ({ path: dashboardPath(d), content: `${JSON.stringify(d, null, 2)}\n` })),
        ...Object.entries(alertingFiles).map(([file, content]) => ({ path: `${GRAFANA_ALERTING_DIR}/${file}`, content })),
      ],
      // Grafana keeps nothing worth keeping: its datasources and dashboards are provisioned from these files, and
      // its database is made anew at each start, so the admin password always follows the config (Grafana applies
      // GF_SECURITY_ADMIN_PASSWORD only when it creates its database). The Grafana Helm chart's default is the same.
      scratchPaths: ["/var/lib/grafana"],
      probe: { http: { path: "/api/health", port } },
      resources: { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "512Mi" },
      security: { runAsUser: 472, runAsGroup: 0, readOnlyRootFilesystem: true },
      // A browser on the old pod keeps working while Services move to the new one (a password change rolls Grafana).
      shutdown: { drainSeconds: 5, graceSeconds: 30 },
    };
    const deployed = args.platform.deploy(name, spec, this);
    this.url = publicUrl(deployed, "grafana");
    this.registerOutputs({ url: this.url, adminPassword: this.adminPassword });
  }
}
