/**
 * The stack's configuration: read from Pulumi config, validated as a whole before any resource is registered.
 * Every problem is reported at once, each naming the key, the value given and what is accepted.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  checkExporterMappings,
  checkGraphiteAggregation,
  checkGraphiteSchemas,
  checkPrometheusRules,
  problemText,
  type OwnAggregation,
  type OwnMapping,
  type OwnRules,
  type OwnSchema,
  type Problem,
} from "../pipeline/extensions";
import { GO_DURATION } from "../pipeline/exporter";
import {
  DEFAULT_IMAGES,
  DEFAULT_STORAGE_SIZES,
  defaultOf,
  MAX_REPLICAS,
  type ConfigKeyName,
  type ImageKey,
  type StorageSizeKey,
  type StructuredConfigKeyName,
} from "../pipeline/config-keys";
import { DEFAULT_KIND_CLUSTER, PORTS, publishedPorts, type PortId } from "../pipeline/ports";
import type { AlertRouting } from "../pipeline/alertmanager";
import { parseRetentions } from "../pipeline/graphite";
import { expirySeconds } from "../pipeline/statsd-expiry";
import { MAX_STATSD_RECEIVE_BUFFER } from "../pipeline/statsd-receive-buffer";
import { MIN_PRUNE_AFTER_SECONDS } from "../pipeline/whisper-prune";
import { durationMs, SERIES_FLOOD_MAX, type AlertThresholds } from "../pipeline/rules";
import { EXPORTER_MODES, TOPOLOGIES, type ExporterMode, type Topology } from "../pipeline/topologies";
export const PLATFORMS = ["docker", "kubernetes"] as const;
export type PlatformKind = (typeof PLATFORMS)[number];

const KIND_CONTEXT_PREFIX = "kind-";

export interface KubernetesConfig {
  /** kubeconfig context; defaults to the kind cluster's, `kind-statsd-stack`. */
  readonly context: string;
  readonly namespace: string;
  /** The kind cluster's name when the context is kind's (`kind-<name>`); undefined for any other cluster. */
  readonly kindCluster?: string;
  /** Not kind: the address this machine reaches NodePorts on. */
  readonly nodeAddress: string;
  /** A shell command copying the locally built app image `$IMAGE` into the cluster; kind's own when unset on kind. */
  readonly imageLoadCommand?: string;
}

/** Where the backends keep their series (config `storage`, `storageClass`, the sizes, `dataOnDestroy`). */
export interface StorageConfig {
  /** Kubernetes: persistent, a PersistentVolumeClaim per data path; ephemeral, an emptyDir. Docker: always volumes. */
  readonly mode: "persistent" | "ephemeral";
  /** The claims' StorageClass; undefined: the cluster's default class. */
  readonly className?: string;
  /** What each backend's claim requests, Kubernetes quantities. */
  readonly sizes: Readonly<Record<StorageSizeKey, string>>;
  /** `pulumi destroy` keeps the data (volumes; claims and their namespace) instead of deleting it. */
  readonly retain: boolean;
}

export interface StackConfig {
  readonly topology: Topology;
  readonly platform: PlatformKind;
  /** Host address published ports bind to on Docker. */
  readonly bindAddress: string;
  readonly hostPorts: Readonly<Record<PortId, number>>;
  readonly images: Readonly<Record<ImageKey, string>>;
  /** A pre-built app image; when unset the app is built locally from `app/`. */
  readonly appImage?: string;
  readonly appReplicas: number;
  /** Exporter topology: one statsd_exporter for all app replicas, or one beside each (pipeline/topologies.ts). */
  readonly exporterMode: ExporterMode;
  readonly metricPrefix: string;
  readonly appName: string;
  /** Set by the user as a secret; when undefined a password is generated and kept in state. */
  readonly grafanaAdminPassword?: pulumi.Output<string>;
  /** graphite-web's admin (`root`) password, set by the user as a secret; when undefined one is generated. */
  readonly graphiteAdminPassword?: pulumi.Output<string>;
  readonly kubernetes: KubernetesConfig;
  /** The service alerts' thresholds (pipeline/rules.ts; Grafana's alert rules on the graphite topology). */
  readonly alertThresholds: AlertThresholds;
  /** When notifications go out (Alertmanager's route, Grafana's notification policy). */
  readonly alertRouting: AlertRouting;
  /** Where notifications go: a secret URL receiving the webhook JSON; undefined: nowhere (alerts are only shown). */
  readonly alertWebhookUrl?: pulumi.Output<string>;
  /** Exporter topology: Prometheus's retention by size, e.g. "2GB"; undefined: by time only. */
  readonly prometheusRetentionSize?: string;
  /** Exporter topology: statsd_exporter's TTL for series outside the catalog, a Go duration ("0s": never). */
  readonly exporterOwnMetricsTtl: string;
  /** The StatsD port's socket receive buffer in bytes, both topologies (0: the kernel's default). */
  readonly statsdReceiveBuffer: number;
  /** Graphite topology: how long statsd keeps a name outside the catalog after its last line, a Go duration ("0s": never). */
  readonly graphiteOwnMetricsExpiry: string;
  /** Graphite topology: how long a whisper file outside the catalog may go unwritten before it is deleted ("0s": never). */
  readonly graphiteOwnMetricsPruneAfter: string;
  /** Exporter topology: Prometheus's retention by time, a Prometheus duration. */
  readonly prometheusRetentionTime: string;
  /** Graphite topology: carbon's retentions for every series (checked by parseRetentions). */
  readonly graphiteRetentions: string;
  /** A team's own mappings, carbon sections and rule file (pipeline/extensions.ts), checked. */
  readonly extensions: Extensions;
  readonly storage: StorageConfig;
}

/** A team's own additions to the pipeline, from stack config (README, "Your own mappings, schemas and rules"). */
export interface Extensions {
  /** Config `exporterMappings`: after the catalog's in statsd_exporter's mapping. */
  readonly exporterMappings: readonly OwnMapping[];
  /** Config `graphiteSchemas`: before the catch-alls of storage-schemas.conf. */
  readonly graphiteSchemas: readonly OwnSchema[];
  /** Config `graphiteAggregation`: before statsd's rules and the catch-all of storage-aggregation.conf. */
  readonly graphiteAggregation: readonly OwnAggregation[];
  /** Config `prometheusRulesFile`: the file's text, delivered beside the generated rules; undefined when unset. */
  readonly prometheusRules?: OwnRules;
}

/** All configuration problems found, one per line. */
export class StackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

/**
 * The part of `pulumi.Config` this module reads; tests pass a plain object. Keys that Pulumi.yaml declares with
 * `default: ""` (optional, no default value) arrive as "" when unset: "" means unset for them.
 */
export interface ConfigSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
  /** Whether the stack stores the key encrypted (`pulumi config set --secret`). */
  isSecret(key: string): boolean;
}

/** Admin passwords (Grafana's, graphite-web's): long enough not to be guessed, and never the images' own defaults. */
export const MIN_PASSWORD_LENGTH = 12;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Prometheus's `--storage.tsdb.retention.size`: a whole number of bytes in base-2 units (a positive size). */
const RETENTION_SIZE = /^[1-9]\d{0,5}(B|KB|MB|GB|TB|PB|EB)$/;
/** A Kubernetes quantity in whole binary units, as a volume claim requests it. */
const STORAGE_SIZE = /^[1-9]\d{0,5}(Mi|Gi|Ti)$/;
/** A StorageClass name: a DNS subdomain. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const BINARY_UNITS: Readonly<Record<string, number>> = { B: 0, KB: 1, MB: 2, GB: 3, TB: 4, PB: 5, EB: 6, Ki: 1, Mi: 2, Gi: 3, Ti: 4 };
/** Bytes of a size such as "2GB" (Prometheus's, powers of 1024) or "10Gi" (a Kubernetes quantity). */
function sizeBytes(size: string): number {
  const [, digits, unit] = /^(\d+)([A-Za-z]+)$/.exec(size) ?? [];
  return Number(digits) * 1024 ** (BINARY_UNITS[unit ?? ""] ?? NaN);
}
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Reads and validates every key; throws {@link StackConfigError} listing every problem. `projectDir`: where a
 * relative `prometheusRulesFile` is found (the program's working directory: `pulumi up` runs it in the project folder).
 */
export function readStackConfig(source: ConfigSource, stack: string, projectDir: string = process.cwd()): StackConfig {
  const problems: string[] = [];
  const bad = (key: string, value: string, accepted: string) =>
    problems.push(`statsd-stack:${key} = ${JSON.stringify(value)} is not valid: expected ${accepted}`);

  /** The stack's value, else the key's declared default (the engine passes it too; plain objects in tests may not). */
  const read = (key: ConfigKeyName): string | undefined => source.get(key) ?? defaultOf(key);
  // On a bad value each reader still returns a value of the right type, so that every key is checked in one run.
  const choice = <T extends string>(key: ConfigKeyName, choices: readonly T[]): T => {
    const raw = read(key);
    if (raw === undefined) {
      problems.push(`statsd-stack:${key} is not set: expected one of ${choices.join(", ")}`);
      return choices[0]!;
    }
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    bad(key, raw, `one of ${choices.join(", ")}`);
    return choices[0]!;
  };
  const integer = (key: ConfigKeyName, min: number, max: number): number => {
    const raw = read(key) ?? "";
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      bad(key, raw, `an integer from ${min} to ${max}`);
      return min;
    }
    return value;
  };
  /** A plain decimal number (no sign, exponent or unit) within `accepts`, described by `accepted`. */
  const decimal = (key: ConfigKeyName, accepts: (n: number) => boolean, accepted: string): number => {
    const raw = read(key) ?? "";
    const value = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(value) || !accepts(value)) {
      bad(key, raw, accepted);
      return NaN;
    }
    return value;
  };
  const duration = (key: ConfigKeyName): string => {
    const raw = read(key) ?? "";
    if (durationMs(raw) === undefined) bad(key, raw, "a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)");
    return raw;
  };
  const pattern = (key: ConfigKeyName, re: RegExp, accepted: string): string => {
    const raw = read(key) ?? "";
    if (!re.test(raw)) bad(key, raw, accepted);
    return raw;
  };

  /** An optional key: undefined when unset or "" (Pulumi.yaml's `default: ""`). */
  const optional = (key: ConfigKeyName): string | undefined => {
    const raw = source.get(key);
    return raw === undefined || raw === "" ? undefined : raw;
  };

  const topology = choice("topology", TOPOLOGIES);
  const platform = choice("platform", PLATFORMS);
  const bindAddress = pattern("bindAddress", IPV4, "an IPv4 address such as 127.0.0.1 (0.0.0.0 publishes on every interface)");

  const hostPorts = {} as Record<PortId, number>;
  for (const id of Object.keys(PORTS) as PortId[]) {
    hostPorts[id] = integer(PORTS[id].configKey, 1, 65535);
  }

  const images = {} as Record<ImageKey, string>;
  for (const key of Object.keys(DEFAULT_IMAGES) as ImageKey[]) {
    images[key] = pattern(key, IMAGE_REF, "an image reference such as prom/prometheus:v3.13.5");
  }
  const appImage = optional("appImage") === undefined ? undefined : pattern("appImage", IMAGE_REF, "an image reference such as registry.example.com/sample-api:1.0.0");

  const context =
    optional("kubeContext") === undefined
      ? `${KIND_CONTEXT_PREFIX}${DEFAULT_KIND_CLUSTER}`
      : pattern("kubeContext", /^\S+$/, "a kubeconfig context name without spaces");
  const kindCluster = context.startsWith(KIND_CONTEXT_PREFIX) ? context.slice(KIND_CONTEXT_PREFIX.length) : undefined;
  const nodeAddress = pattern("nodeAddress", HOST, "a host name or IPv4 address, e.g. 127.0.0.1 or 192.168.49.2");
  const imageLoadCommand = optional("imageLoadCommand");
  if (platform === "kubernetes" && kindCluster === undefined && optional("appImage") === undefined && imageLoadCommand === undefined) {
    problems.push(
      `statsd-stack:appImage is not set: kubeContext = ${JSON.stringify(context)} is not a kind cluster, so the locally built app image cannot reach it; ` +
        "expected appImage (an image the cluster can pull) or imageLoadCommand (a command that copies $IMAGE into the cluster)",
    );
  }
  const defaultNamespace = `statsd-stack-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/-+$/, "");
  const namespace = optional("namespace") === undefined ? defaultNamespace : pattern("namespace", DNS_LABEL, "a Kubernetes namespace name: up to 63 lowercase letters, digits and -");

  // Passwords are secrets: problems name the key and the rule, never the value.
  const secretPassword = (key: "grafanaAdminPassword" | "graphiteAdminPassword"): pulumi.Output<string> | undefined => {
    const value = optional(key);
    if (value === undefined) return undefined;
    if (!source.isSecret(key)) {
      problems.push(`statsd-stack:${key} is stored in plain text: set it with \`pulumi config set --secret ${key} <password>\` (the value is not shown)`);
    } else if (value.length < MIN_PASSWORD_LENGTH || ["admin", "root"].includes(value.toLowerCase())) {
      problems.push(`statsd-stack:${key} is not valid: expected at least ${MIN_PASSWORD_LENGTH} characters (the value is a secret and not shown)`);
    }
    return source.getSecret(key);
  };
  const grafanaAdminPassword = secretPassword("grafanaAdminPassword");
  const graphiteAdminPassword = secretPassword("graphiteAdminPassword");

  // A token in the URL is a secret: problems name the key and the rule, never the value.
  const webhookUrl = optional("alertWebhookUrl");
  if (webhookUrl !== undefined && !source.isSecret("alertWebhookUrl")) {
    problems.push(
      "statsd-stack:alertWebhookUrl is stored in plain text: set it with `pulumi config set --secret alertWebhookUrl <url>` (it often carries a token; the value is not shown)",
    );
  } else if (webhookUrl !== undefined && !isHttpUrl(webhookUrl)) {
    problems.push("statsd-stack:alertWebhookUrl is not valid: expected an absolute http:// or https:// URL with a host, e.g. https://hooks.example.com/alerts (the value is a secret and not shown)");
  }

  const appReplicas = integer("appReplicas", 1, MAX_REPLICAS);
  const exporterMode = choice("exporterMode", EXPORTER_MODES);
  if (exporterMode === "sidecar" && topology !== "exporter") {
    bad("exporterMode", exporterMode, `central on topology ${topology} (statsd_exporter runs only in the exporter topology; sidecar puts one beside each app replica there)`);
  }
  /** In sidecar mode each app replica publishes its exporter's ports on Docker too, at the configured port + n. */
  const replicasOf = (id: PortId) => (id === "api" || (exporterMode === "sidecar" && (id === "statsd" || id === "exporterWeb")) ? appReplicas : 1);

  // Only the ports this topology publishes can clash: the others are never bound. On Docker, replica n of the
  // API (and, in sidecar mode, of its exporter) is published on the port + n.
  if (platform === "docker") {
    const seen = new Map<string, string>();
    for (const id of publishedPorts(topology)) {
      const count = replicasOf(id);
      for (let n = 0; n < count; n++) {
        const port = hostPorts[id] + n;
        const key = `${port}/${PORTS[id].protocol}`;
        const name = n === 0 ? `statsd-stack:${PORTS[id].configKey} = ${port}` : `statsd-stack:${PORTS[id].configKey} + ${n} = ${port} (replica ${n})`;
        const other = seen.get(key);
        if (other) problems.push(`${name} clashes with ${other}: each host port can be published once`);
        else seen.set(key, name.split(" = ")[0]!);
      }
    }
  }
  const metricPrefix = pattern("metricPrefix", /^[A-Za-z_][A-Za-z0-9_]*$/, "letters, digits and _ (not starting with a digit), e.g. sample_api");
  const appName = pattern("appName", DNS_LABEL, "a DNS label: lowercase letters, digits and -, e.g. sample-api");
  const alertThresholds: AlertThresholds = {
    serverErrorRatio: decimal("alertServerErrorRatio", (n) => n > 0 && n < 1, "a number greater than 0 and less than 1, e.g. 0.05 for 5%"),
    serverErrorFor: duration("alertServerErrorFor"),
    latencyP99Seconds: decimal("alertLatencyP99Seconds", (n) => n > 0, "a number of seconds greater than 0, e.g. 6 or 2.5"),
    latencyFor: duration("alertLatencyFor"),
    exporterDownFor: duration("alertExporterDownFor"),
    seriesFlood: integer("alertSeriesFlood", 1, SERIES_FLOOD_MAX),
  };
  const alertRouting: AlertRouting = {
    groupWait: duration("alertGroupWait"),
    groupInterval: duration("alertGroupInterval"),
    repeatInterval: duration("alertRepeatInterval"),
  };
  const prometheusRetentionTime = duration("prometheusRetentionTime");
  if (durationMs(prometheusRetentionTime) === 0) bad("prometheusRetentionTime", prometheusRetentionTime, "a duration longer than 0, such as 15d");
  const graphiteRetentions = read("graphiteRetentions") ?? "";
  const retentions = parseRetentions(graphiteRetentions);
  if ("problem" in retentions) bad("graphiteRetentions", graphiteRetentions, `carbon retentions such as 10s:6h,1m:7d,10m:1y (${retentions.problem})`);
  // Bounded by default; an explicit "" (the only way to unset a key that has a default) keeps retention by time only.
  const prometheusRetentionSize =
    (read("prometheusRetentionSize") ?? "") === ""
      ? undefined
      : pattern("prometheusRetentionSize", RETENTION_SIZE, "a size such as 512MB or 2GB: a whole number and one of the units B, KB, MB, GB, TB, PB, EB (powers of 1024)");

  const exporterOwnMetricsTtl = pattern("exporterOwnMetricsTtl", GO_DURATION, "a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m, or 0s for never");

  const graphiteOwnMetricsExpiry = read("graphiteOwnMetricsExpiry") ?? "";
  if (expirySeconds(graphiteOwnMetricsExpiry) === undefined) {
    bad("graphiteOwnMetricsExpiry", graphiteOwnMetricsExpiry, "a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m, or 0s for never");
  }

  const graphiteOwnMetricsPruneAfter = read("graphiteOwnMetricsPruneAfter") ?? "";
  const pruneSeconds = expirySeconds(graphiteOwnMetricsPruneAfter);
  if (pruneSeconds === undefined || (pruneSeconds > 0 && pruneSeconds < MIN_PRUNE_AFTER_SECONDS)) {
    bad(
      "graphiteOwnMetricsPruneAfter",
      graphiteOwnMetricsPruneAfter,
      "a Go duration in whole hours, minutes and seconds of at least 1h (carbon may hold a series' points for minutes before it writes them), such as 168h or 720h, or 0s for never",
    );
  }

  const statsdReceiveBuffer = integer("statsdReceiveBuffer", 0, MAX_STATSD_RECEIVE_BUFFER);

  const extensions = readExtensions(source, metricPrefix, projectDir, problems);

  const storageMode = choice("storage", ["persistent", "ephemeral"] as const);
  if (platform === "docker" && storageMode === "ephemeral") {
    bad("storage", storageMode, "persistent on platform docker (the data is on named volumes there; ephemeral, an emptyDir, is for platform kubernetes)");
  }
  const className = optional("storageClass") === undefined ? undefined : pattern("storageClass", DNS_SUBDOMAIN, "a StorageClass name (lowercase letters, digits, - and .), or unset for the cluster's default class");
  const sizes = {} as Record<StorageSizeKey, string>;
  for (const key of Object.keys(DEFAULT_STORAGE_SIZES) as StorageSizeKey[]) {
    sizes[key] = pattern(key, STORAGE_SIZE, "a Kubernetes quantity in whole Mi, Gi or Ti, such as 512Mi or 10Gi");
  }
  // Prometheus deletes blocks beyond its retention size: the volume must hold at least that, or it fills first.
  if (
    platform === "kubernetes" &&
    storageMode === "persistent" &&
    topology === "exporter" &&
    prometheusRetentionSize !== undefined &&
    STORAGE_SIZE.test(sizes.prometheusStorageSize) &&
    sizeBytes(sizes.prometheusStorageSize) <= sizeBytes(prometheusRetentionSize)
  ) {
    bad(
      "prometheusStorageSize",
      sizes.prometheusStorageSize,
      `a size larger than prometheusRetentionSize (${prometheusRetentionSize}), so that Prometheus deletes its oldest blocks before the volume is full`,
    );
  }
  const dataOnDestroy = choice("dataOnDestroy", ["delete", "retain"] as const);

  // Every key is read before this point, so every problem is reported at once.
  if (problems.length > 0) throw new StackConfigError(problems);
  return {
    topology,
    platform,
    bindAddress,
    hostPorts,
    images,
    appImage,
    appReplicas,
    exporterMode,
    metricPrefix,
    appName,
    grafanaAdminPassword,
    graphiteAdminPassword,
    kubernetes: { context, namespace, kindCluster, nodeAddress, imageLoadCommand },
    alertThresholds,
    alertRouting,
    alertWebhookUrl: webhookUrl === undefined ? undefined : source.getSecret("alertWebhookUrl"),
    exporterOwnMetricsTtl,
    graphiteOwnMetricsExpiry,
    graphiteOwnMetricsPruneAfter,
    statsdReceiveBuffer,
    prometheusRetentionSize,
    prometheusRetentionTime,
    graphiteRetentions,
    extensions,
    storage: { mode: storageMode, className, sizes, retain: dataOnDestroy === "retain" },
  };
}

/**
 * Config `exporterMappings`, `graphiteSchemas`, `graphiteAggregation` (structured: the engine passes them as JSON
 * text, read here so that a value that is not JSON is reported with the rest) and `prometheusRulesFile` (read from
 * the project folder, which is the program's working directory under `pulumi up`). Problems go to `problems`.
 */
function readExtensions(source: ConfigSource, metricPrefix: string, projectDir: string, problems: string[]): Extensions {
  const bad: Problem = (at, value, accepted) => problems.push(problemText(at, value, accepted));
  const structured = (key: StructuredConfigKeyName): unknown => {
    const raw = source.get(key);
    if (raw === undefined || raw === "") return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      bad(key, raw, `a list of objects, set field by field with pulumi config set --path '${key}[0].FIELD' VALUE (or as JSON text)`);
      return undefined;
    }
  };
  const exporterMappings = checkExporterMappings(structured("exporterMappings"), metricPrefix, bad);
  const graphiteSchemas = checkGraphiteSchemas(structured("graphiteSchemas"), metricPrefix, bad);
  const graphiteAggregation = checkGraphiteAggregation(structured("graphiteAggregation"), metricPrefix, bad);
  let prometheusRules: OwnRules | undefined;
  const rulesFile = source.get("prometheusRulesFile") ?? "";
  if (rulesFile !== "") {
    const file = path.resolve(projectDir, rulesFile);
    let text: string | undefined;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? `there is no such file (${file})` : code === "EISDIR" ? `${file} is a folder` : `${file} cannot be read (${code})`;
      bad("prometheusRulesFile", rulesFile, `a YAML file of Prometheus rule groups, relative to the project folder: ${why}`);
    }
    if (text !== undefined) prometheusRules = checkPrometheusRules(rulesFile, text, bad);
  }
  return { exporterMappings, graphiteSchemas, graphiteAggregation, prometheusRules };
}

/** An absolute http(s) URL with a host: what Alertmanager's and Grafana's webhooks accept. */
function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" && !/\s/.test(text);
  } catch {
    return false;
  }
}

/**
 * Whether the engine passed `fullKey` as a secret. `pulumi.runtime.isConfigSecret` exists in the SDK's runtime but
 * is not in its type declarations.
 */
function isConfigSecret(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") throw new Error("@pulumi/pulumi no longer provides runtime.isConfigSecret");
  return runtime.isConfigSecret(fullKey);
}

/** Reads the project's config namespace; turns a {@link StackConfigError} into one readable Pulumi error. */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config();
  const source: ConfigSource = {
    get: (key) => config.get(key),
    getSecret: (key) => config.getSecret(key),
    isSecret: (key) => isConfigSecret(`${config.name}:${key}`),
  };
  try {
    return readStackConfig(source, pulumi.getStack());
  } catch (err) {
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}
