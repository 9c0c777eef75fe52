/** Alertmanager receiving the exporter topology's alerts from Prometheus and notifying the stack's webhook. */
import * as pulumi from "@pulumi/pulumi";
import {
  ALERTMANAGER_CONFIG_PATH,
  ALERTMANAGER_DATA_DIR,
  ALERTMANAGER_SERVICE,
  ALERTMANAGER_WEBHOOK_URL_PATH,
  alertmanagerArgs,
  alertmanagerConfigYaml,
  type AlertRouting,
} from "../pipeline/alertmanager";
import { containerPort } from "../pipeline/ports";
import { publicUrl, type Platform, type WorkloadFile, type WorkloadSpec } from "./platform/workload";

/** Arguments of {@link Alertmanager}. */
export interface AlertmanagerArgs {
  /** Where it runs. */
  readonly platform: Platform;
  /** The prom/alertmanager image. */
  readonly image: pulumi.Input<string>;
  /** When notifications go out: the stack's `alertGroupWait`, `alertGroupInterval`, `alertRepeatInterval`. */
  readonly routing: AlertRouting;
  /** Where notifications go (a secret: it often carries a token); undefined: alerts are only shown. */
  readonly webhookUrl?: pulumi.Input<string>;
  /** What the silences' and notification log's volume claim requests on Kubernetes (config `alertmanagerStorageSize`). */
  readonly storageSize: string;
}

/**
 * One Alertmanager with the generated alertmanager.yml (pipeline/alertmanager.ts): grouping, the webhook receiver
 * and the pipeline-down inhibitions. The webhook URL is a file of its own, kept secret on both platforms; silences
 * and the notification log are on a data volume.
 */
export class Alertmanager extends pulumi.ComponentResource {
  /** `host:port` inside the network: Prometheus's alerting target. */
  public readonly target: pulumi.Output<string>;
  /** Alertmanager on this machine: its UI and API (`/api/v2/alerts`). */
  public readonly publicUrl: pulumi.Output<string>;

  constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:Alertmanager", name, {}, opts);
    const port = containerPort("alertmanager");
    const webhook: WorkloadFile[] =
      args.webhookUrl === undefined
        ? []
        : [{ path: ALERTMANAGER_WEBHOOK_URL_PATH, content: pulumi.secret(args.webhookUrl), secret: true }];
    const spec: WorkloadSpec = {
      name: ALERTMANAGER_SERVICE,
      image: { ref: args.image },
      args: alertmanagerArgs({ configPath: ALERTMANAGER_CONFIG_PATH, dataDir: ALERTMANAGER_DATA_DIR, listenAddress: `:${port}` }),
      ports: [{ name: "web", port, protocol: "tcp", publish: "alertmanager" }],
      files: [
        {
          path: ALERTMANAGER_CONFIG_PATH,
          content: alertmanagerConfigYaml({
            routing: args.routing,
            webhookUrlFile: args.webhookUrl === undefined ? undefined : ALERTMANAGER_WEBHOOK_URL_PATH,
          }),
        },
        ...webhook,
      ],
      dataPaths: [ALERTMANAGER_DATA_DIR],
      dataSize: args.storageSize,
      probe: { http: { path: "/-/ready", port } },
      resources: { cpuRequest: "50m", memoryRequest: "32Mi", cpuLimit: "500m", memoryLimit: "128Mi" },
      security: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
    };
    const deployed = args.platform.deploy(name, spec, this);
    this.target = deployed.host.apply((host) => `${host}:${port}`);
    this.publicUrl = publicUrl(deployed, "alertmanager");
    this.registerOutputs({ target: this.target, publicUrl: this.publicUrl });
  }
}
