/**
 * Every key of the stack's configuration, declared once: its type, its default and what it does. Pulumi.yaml's
 * `config:` block is generated from this table (npm run generate; a test fails on a stale copy), and the program
 * reads its defaults from here, so a default is written in one place.
 */
import { DEFAULT_APP_NAME, DEFAULT_METRIC_PREFIX } from "../app/src/metrics/catalog";
import { RETENTIONS } from "./graphite";
import { DEFAULT_GRAPHITE_OWN_METRICS_EXPIRY } from "./statsd-expiry";
import { DEFAULT_GRAPHITE_OWN_METRICS_PRUNE_AFTER } from "./whisper-prune";
import { DEFAULT_STATSD_RECEIVE_BUFFER, MAX_STATSD_RECEIVE_BUFFER } from "./statsd-receive-buffer";
import { defaultHostPort, type PortId } from "./ports";

/** Images pinned to current releases; each can be overridden by config. */
export const DEFAULT_IMAGES = {
  graphiteImage: "graphiteapp/graphite-statsd:1.1.10-5",
  exporterImage: "prom/statsd-exporter:v0.30.0",
  prometheusImage: "prom/prometheus:v3.13.5",
  grafanaImage: "grafana/grafana:13.2.2",
  alertmanagerImage: "prom/alertmanager:v0.35.0",
} as const;
export type ImageKey = keyof typeof DEFAULT_IMAGES;

/** What each backend's claim requests on Kubernetes (storage persistent); each can be overridden by config. */
export const DEFAULT_STORAGE_SIZES = {
  prometheusStorageSize: "10Gi",
  alertmanagerStorageSize: "1Gi",
  graphiteStorageSize: "10Gi",
} as const;
export type StorageSizeKey = keyof typeof DEFAULT_STORAGE_SIZES;

/** Most replicas of the API: on Docker each takes a host port. */
export const MAX_REPLICAS = 20;

export interface ConfigKey {
  readonly type: "string" | "integer";
  /**
   * The value a stack gets when it sets none. `""` marks an optional key without a default (the engine asks for a
   * declared key that has no default at all); undefined: every stack must set it.
   */
  readonly default?: string | number;
  readonly description: string;
}

const hostPort = (id: PortId, description: string): ConfigKey => ({ type: "integer", default: defaultHostPort(id), description });

/** The keys in the order Pulumi.yaml and README list them. */
export const CONFIG_KEYS = {
  topology: {
    type: "string",
    description: "Which pipeline to run: graphite (StatsD -> graphite-statsd) or exporter (DogStatsD -> statsd_exporter -> Prometheus). Set by each stack file.",
  },
  platform: {
    type: "string",
    default: "docker",
    description: "Where to run it: docker (the local Docker engine) or kubernetes (a kind cluster, or any cluster via kubeContext).",
  },
  bindAddress: {
    type: "string",
    default: "127.0.0.1",
    description: "Docker only: the host address published ports bind to. 0.0.0.0 exposes them on every interface.",
  },
  apiPort: hostPort(
    "api",
    "Docker only: host port of the sample API (Pulumi.exporter.yaml sets 8100, so both stacks can run at once; kind: fixed by kind/cluster.yaml). With appReplicas > 1, replica n is on apiPort + n.",
  ),
  grafanaPort: hostPort("grafana", "Docker only: host port of Grafana (exporter stack: 3001)."),
  graphitePort: hostPort("graphiteWeb", "Docker only: host port of graphite-web (graphite topology)."),
  prometheusPort: hostPort("prometheus", "Docker only: host port of Prometheus (exporter topology)."),
  alertmanagerPort: hostPort("alertmanager", "Docker only: host port of Alertmanager (exporter topology)."),
  exporterPort: hostPort("exporterWeb", "Docker only: host port of statsd_exporter's /metrics (exporter topology)."),
  statsdPort: hostPort("statsd", "Docker only: host UDP port of the StatsD ingest, to send your own metrics (exporter stack: 9125)."),
  appReplicas: {
    type: "integer",
    default: 1,
    description: `Replicas of the sample API (1 to ${MAX_REPLICAS}). On Docker replica n publishes apiPort + n.`,
  },
  exporterMode: {
    type: "string",
    default: "central",
    description:
      "Exporter topology: central (one statsd_exporter for every app replica) or sidecar (a statsd_exporter beside each app replica, which the app sends to over localhost and Prometheus finds by DNS). Switching a deployed stack on Docker or kind: pulumi destroy first (see README, Scale-out).",
  },
  metricPrefix: {
    type: "string",
    default: DEFAULT_METRIC_PREFIX,
    description: "Prefix of every StatsD key the app sends; the exporter mapping and the Graphite dashboard follow it.",
  },
  appName: {
    type: "string",
    default: DEFAULT_APP_NAME,
    description: "The app_name the app reports (a DNS label); the Prometheus dashboard's app variable lists it.",
  },
  grafanaAdminPassword: {
    type: "string",
    default: "",
    description:
      "Grafana's admin password, at least 12 characters; set it with `pulumi config set --secret` (the program refuses a plain-text one). Unset: a random one is generated, kept in state and shown by `pulumi stack output --show-secrets grafanaAdminPassword`.",
  },
  graphiteAdminPassword: {
    type: "string",
    default: "",
    description:
      "Graphite topology: the password of graphite-web's Django admin user `root` (the image's own is `root`), at least 12 characters; set it with `pulumi config set --secret`. Unset: a random one is generated, kept in state and shown by `pulumi stack output --show-secrets graphiteAdminPassword`.",
  },
  graphiteImage: { type: "string", default: DEFAULT_IMAGES.graphiteImage, description: "Image of statsd + carbon + graphite-web." },
  exporterImage: { type: "string", default: DEFAULT_IMAGES.exporterImage, description: "Image of statsd_exporter." },
  prometheusImage: { type: "string", default: DEFAULT_IMAGES.prometheusImage, description: "Image of Prometheus." },
  grafanaImage: { type: "string", default: DEFAULT_IMAGES.grafanaImage, description: "Image of Grafana." },
  alertmanagerImage: { type: "string", default: DEFAULT_IMAGES.alertmanagerImage, description: "Image of Alertmanager (exporter topology)." },
  appImage: {
    type: "string",
    default: "",
    description:
      "A pre-built sample API image. Unset: built locally from app/ (and loaded into kind on Kubernetes). Set it for clusters other than kind.",
  },
  kubeContext: {
    type: "string",
    default: "",
    description:
      "Kubernetes only: the kubeconfig context. Unset: kind-statsd-stack, the kind cluster kind/cluster.yaml creates. A kind-<name> context gets kind's fixed NodePorts and `kind load`.",
  },
  namespace: { type: "string", default: "", description: "Kubernetes only: the namespace to create. Default statsd-stack-<stack>." },
  nodeAddress: {
    type: "string",
    default: "127.0.0.1",
    description: "Kubernetes other than kind: the address this machine reaches the nodes' NodePorts on; the URL outputs use it.",
  },
  imageLoadCommand: {
    type: "string",
    default: "",
    description:
      "Kubernetes only: a shell command that copies the locally built app image $IMAGE into the cluster, e.g. 'minikube image load \"$IMAGE\"'. Unset: `kind load docker-image` on kind; elsewhere set this or appImage.",
  },
  alertServerErrorRatio: {
    type: "string",
    default: "0.05",
    description:
      "Both topologies: the share of an app's requests answered 5xx (over 5 minutes) above which alert AppHighServerErrorRatio fires (Prometheus's rule on the exporter topology, Grafana's on the graphite topology); a number greater than 0 and less than 1.",
  },
  alertServerErrorFor: {
    type: "string",
    default: "5m",
    description: "Both topologies: how long the server-error share must stay above alertServerErrorRatio before the alert fires; a Prometheus duration such as 90s, 5m or 1h30m.",
  },
  alertLatencyP99Seconds: {
    type: "string",
    default: "6",
    description:
      "Both topologies: the 99th percentile request latency, in seconds (over 5 minutes; on the graphite topology the highest per-flush p99 of any route), above which alert AppHighLatencyP99 fires; a positive number. The sample API's slowest endpoint takes up to 5 s.",
  },
  alertLatencyFor: {
    type: "string",
    default: "10m",
    description: "Both topologies: how long the p99 latency must stay above alertLatencyP99Seconds before the alert fires; a Prometheus duration.",
  },
  alertExporterDownFor: {
    type: "string",
    default: "1m",
    description:
      "Exporter topology: how long Prometheus must fail to scrape statsd_exporter before alert StatsdExporterDown fires (and mutes the service alerts); a Prometheus duration. A restarted exporter is back well within the default.",
  },
  alertSeriesFlood: {
    type: "string",
    default: "10000",
    description:
      "Both topologies: alert StatsdSeriesFlood fires when the pipeline has held more series than this for 10 minutes: each statsd_exporter's series (exporter topology), the stats in a statsd flush (graphite topology); a whole number of at least 1. The sample API makes a few dozen; a flood of new names or label values passes it.",
  },
  alertWebhookUrl: {
    type: "string",
    default: "",
    description:
      "Where alert notifications go: an http(s) URL that receives the webhook JSON (Alertmanager's on the exporter topology, Grafana's on the graphite topology), firing and resolved. A secret (it often carries a token): set it with `pulumi config set --secret`. Unset: alerts are shown (Alertmanager, Grafana) but sent nowhere.",
  },
  alertGroupWait: {
    type: "string",
    default: "30s",
    description: "How long a new group of alerts waits for more of its kind before the first notification; a duration such as 30s.",
  },
  alertGroupInterval: {
    type: "string",
    default: "5m",
    description: "How long a group waits before notifying of alerts added to it or resolved in it; a duration.",
  },
  alertRepeatInterval: {
    type: "string",
    default: "4h",
    description: "How long before a notification that was sent is sent again while its alerts still fire; a duration.",
  },
  exporterOwnMetricsTtl: {
    type: "string",
    default: "24h",
    description:
      "Exporter topology: how long statsd_exporter keeps a series of a metric the sample API's catalog does not name after its last event, so a flood of new names cannot exhaust its memory; a Go duration such as 24h, 90m or 1h30m; 0s: never (statsd_exporter's own default). The catalog's series never expire.",
  },
  graphiteOwnMetricsExpiry: {
    type: "string",
    default: DEFAULT_GRAPHITE_OWN_METRICS_EXPIRY,
    description:
      "Graphite topology: how long statsd keeps a name the sample API's catalog does not name after its last line (an idle counter is written as 0 and a gauge keeps its value until then), so a flood of new names cannot exhaust its memory; a Go duration such as 24h, 90m or 1h30m; 0s: never (statsd's own default). The catalog's names and statsd's own are never forgotten.",
  },
  graphiteOwnMetricsPruneAfter: {
    type: "string",
    default: DEFAULT_GRAPHITE_OWN_METRICS_PRUNE_AFTER,
    description:
      "Graphite topology: how long a whisper file of a series the sample API's catalog does not name may go unwritten before it is deleted (with the folders that leaves empty), so the names a flood or a retired service left do not keep their disk; checked at start and hourly; a Go duration of at least 1h, such as 168h; 0s: never (carbon's own default). statsd writes a name until graphiteOwnMetricsExpiry forgets it, so a file is deleted after that plus this. The catalog's series, statsd's own and carbon's own are never deleted.",
  },
  statsdReceiveBuffer: {
    type: "integer",
    default: DEFAULT_STATSD_RECEIVE_BUFFER,
    description: `The StatsD port's socket receive buffer in bytes (0 to ${MAX_STATSD_RECEIVE_BUFFER}), both topologies: what a burst of one-line datagrams can queue while the daemon is busy, beyond which the kernel drops them. The host's net.core.rmem_max caps it (a container cannot raise that; see README, Ingest capacity); 0: the kernel's default (net.core.rmem_default), the daemons' own default.`,
  },
  prometheusRetentionTime: {
    type: "string",
    default: "7d",
    description: "Exporter topology: how long Prometheus keeps samples; a Prometheus duration such as 15d or 8w.",
  },
  graphiteRetentions: {
    type: "string",
    default: RETENTIONS,
    description:
      "Graphite topology: carbon's retentions for every series, finest first, e.g. 10s:6h,1m:7d,10m:1y; the first precision must be statsd's flush interval (10s). Applies to new series: see README for existing whisper files.",
  },
  prometheusRetentionSize: {
    type: "string",
    default: "2GB",
    description:
      "Exporter topology: the most disk Prometheus's time series may take (blocks, WAL and head chunks), e.g. 2GB (units B, KB, MB, GB, TB, PB, EB); the oldest blocks are deleted beyond it, and alert PrometheusStorageNearRetentionSize fires at 90 %. An empty string: retention by time only (prometheusRetentionTime).",
  },
  storage: {
    type: "string",
    default: "persistent",
    description:
      "Kubernetes only: where Prometheus, Alertmanager and graphite-statsd keep their data. persistent: a PersistentVolumeClaim each (ReadWriteOnce), mounted by a StatefulSet of one pod, kept across rollouts, pod deletions and kubelet restarts; ephemeral: an emptyDir, lost whenever the pod is replaced (on Docker the data is always on named volumes).",
  },
  storageClass: {
    type: "string",
    default: "",
    description: "Kubernetes, storage persistent: the StorageClass of the claims. Unset: the cluster's default class (kind: standard).",
  },
  prometheusStorageSize: {
    type: "string",
    default: DEFAULT_STORAGE_SIZES.prometheusStorageSize,
    description:
      "Kubernetes, storage persistent, exporter topology: the size Prometheus's claim requests, a Kubernetes quantity such as 10Gi (units Mi, Gi, Ti); it must exceed prometheusRetentionSize.",
  },
  alertmanagerStorageSize: {
    type: "string",
    default: DEFAULT_STORAGE_SIZES.alertmanagerStorageSize,
    description: "Kubernetes, storage persistent, exporter topology: the size Alertmanager's claim (silences, notification log) requests, e.g. 1Gi.",
  },
  graphiteStorageSize: {
    type: "string",
    default: DEFAULT_STORAGE_SIZES.graphiteStorageSize,
    description:
      "Kubernetes, storage persistent, graphite topology: the size graphite-statsd's claim (whisper files, graphite-web's database) requests, e.g. 10Gi. Each series takes a fixed size set by graphiteRetentions (see README, Retention).",
  },
  dataOnDestroy: {
    type: "string",
    default: "delete",
    description:
      "What `pulumi destroy` does with the stored series: delete (the Docker volumes, or the claims with the namespace) or retain (kept, and taken up again by the next `pulumi up` of the stack; README says how to delete them by hand).",
  },
  // A team's own additions (pipeline/extensions.ts): the rule file here, the structured ones in STRUCTURED_CONFIG_KEYS.
  prometheusRulesFile: {
    type: "string",
    default: "",
    description:
      "Exporter topology: a team's own Prometheus recording and alerting rules, a YAML file of rule groups (path relative to the project folder), read and checked at each `pulumi up` and delivered beside the generated rules; its group names must differ from the generated ones (statsd-stack-recording, statsd-stack-alerts).",
  },
} as const satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

/**
 * Structured keys (lists of objects): Pulumi.yaml cannot declare them (a project's config types are string,
 * integer, boolean and array of those), so they are read from the stack's config as the engine passes them, JSON
 * text, and checked by pipeline/extensions.ts. Set with `pulumi config set --path 'KEY[0].field' VALUE`.
 */
export const STRUCTURED_CONFIG_KEYS = {
  exporterMappings: "Exporter topology: a team's statsd_exporter mappings, after the catalog's.",
  graphiteSchemas: "Graphite topology: a team's carbon storage schemas (name, pattern, retentions), before the catch-alls.",
  graphiteAggregation: "Graphite topology: a team's carbon aggregation rules (name, pattern, method, xFilesFactor), before statsd's and the catch-all.",
} as const;
export type StructuredConfigKeyName = keyof typeof STRUCTURED_CONFIG_KEYS;

/** A key's default as the engine passes config values: a string. */
export function defaultOf(key: ConfigKeyName): string | undefined {
  const declared: ConfigKey = CONFIG_KEYS[key];
  return declared.default === undefined ? undefined : String(declared.default);
}
