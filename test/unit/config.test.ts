/** Stack configuration: defaults, and a clear message for every bad value, all reported at once. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { readStackConfig, StackConfigError, type ConfigSource } from "../../components/config";

/** Config as the engine passes it: `secrets` are the keys set with `pulumi config set --secret`. */
const source = (values: Record<string, string>, secrets: readonly string[] = []): ConfigSource => ({
  get: (key) => values[key],
  // A marked string stands in for the secret Output the engine would give.
  getSecret: (key) => (values[key] === undefined ? undefined : (`secret:${values[key]}` as unknown as pulumi.Output<string>)),
  isSecret: (key) => secrets.includes(key),
});

function problems(values: Record<string, string>, secrets: readonly string[] = []): readonly string[] {
  try {
    readStackConfig(source(values, secrets), "demo");
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  assert.fail("expected a StackConfigError");
}

describe("stack configuration", () => {
  it("defaults: docker on 127.0.0.1 with the documented ports, images and names", () => {
    const config = readStackConfig(source({ topology: "exporter" }), "demo");
    assert.deepEqual(
      { ...config, grafanaAdminPassword: undefined },
      {
        topology: "exporter",
        platform: "docker",
        bindAddress: "127.0.0.1",
        hostPorts: { api: 8000, grafana: 3000, graphiteWeb: 8080, prometheus: 9090, alertmanager: 9093, exporterWeb: 9102, statsd: 8125 },
        images: {
          graphiteImage: "graphiteapp/graphite-statsd:1.1.10-5",
          exporterImage: "prom/statsd-exporter:v0.30.0",
          prometheusImage: "prom/prometheus:v3.13.5",
          grafanaImage: "grafana/grafana:13.2.2",
          alertmanagerImage: "prom/alertmanager:v0.35.0",
        },
        appImage: undefined,
        appReplicas: 1,
        exporterMode: "central",
        metricPrefix: "sample_api",
        appName: "sample-api",
        grafanaAdminPassword: undefined,
        graphiteAdminPassword: undefined,
        kubernetes: { context: "kind-statsd-stack", namespace: "statsd-stack-demo", kindCluster: "statsd-stack", nodeAddress: "127.0.0.1", imageLoadCommand: undefined },
        alertThresholds: { serverErrorRatio: 0.05, serverErrorFor: "5m", latencyP99Seconds: 6, latencyFor: "10m", exporterDownFor: "1m", seriesFlood: 10_000 },
        alertRouting: { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" },
        alertWebhookUrl: undefined,
        exporterOwnMetricsTtl: "24h",
        graphiteOwnMetricsExpiry: "24h",
        graphiteOwnMetricsPruneAfter: "168h",
        statsdReceiveBuffer: 4_194_304,
        prometheusRetentionSize: "2GB",
        prometheusRetentionTime: "7d",
        graphiteRetentions: "10s:6h,1m:7d,10m:1y",
        extensions: { exporterMappings: [], graphiteSchemas: [], graphiteAggregation: [], prometheusRules: undefined },
        storage: { mode: "persistent", className: undefined, sizes: { prometheusStorageSize: "10Gi", alertmanagerStorageSize: "1Gi", graphiteStorageSize: "10Gi" }, retain: false },
      },
    );
  });

  it('prometheusRetentionSize set to "" keeps Prometheus\'s retention by time only', () => {
    assert.equal(readStackConfig(source({ topology: "exporter", prometheusRetentionSize: "" }), "demo").prometheusRetentionSize, undefined);
  });

  it("reads the retentions: Prometheus's time and carbon's archives", () => {
    const config = readStackConfig(source({ topology: "graphite", prometheusRetentionTime: "30d", graphiteRetentions: "10s:1d,5m:90d" }), "demo");
    assert.deepEqual([config.prometheusRetentionTime, config.graphiteRetentions], ["30d", "10s:1d,5m:90d"]);
  });

  it("accepts a whisper prune age of exactly an hour, and 0s for never", () => {
    const at = (value: string) => readStackConfig(source({ topology: "graphite", graphiteOwnMetricsPruneAfter: value }), "demo").graphiteOwnMetricsPruneAfter;
    assert.deepEqual([at("1h"), at("60m"), at("720h"), at("0s")], ["1h", "60m", "720h", "0s"]);
  });

  it('treats "" (Pulumi.yaml\'s default for optional keys) as unset', () => {
    const config = readStackConfig(source({ topology: "graphite", appImage: "", kubeContext: "", namespace: "", grafanaAdminPassword: "", imageLoadCommand: "" }), "demo");
    assert.deepEqual(
      [config.appImage, config.kubernetes.context, config.kubernetes.namespace, config.grafanaAdminPassword, config.kubernetes.imageLoadCommand],
      [undefined, "kind-statsd-stack", "statsd-stack-demo", undefined, undefined],
    );
  });

  it("a kind-<name> context is kind cluster <name>; any other context is not kind", () => {
    const kind = readStackConfig(source({ topology: "graphite", platform: "kubernetes", kubeContext: "kind-lab" }), "demo");
    const other = readStackConfig(source({ topology: "graphite", platform: "kubernetes", kubeContext: "prod", appImage: "r.example.com/api:1" }), "demo");
    assert.deepEqual([kind.kubernetes.kindCluster, other.kubernetes.kindCluster], ["lab", undefined]);
  });

  it("reads the alert thresholds: decimals, Prometheus durations and a whole number of series", () => {
    const config = readStackConfig(
      source({ topology: "exporter", alertServerErrorRatio: "0.125", alertServerErrorFor: "90s", alertLatencyP99Seconds: "2.5", alertLatencyFor: "1h30m", alertExporterDownFor: "2m", alertSeriesFlood: "2500" }),
      "demo",
    );
    assert.deepEqual(config.alertThresholds, { serverErrorRatio: 0.125, serverErrorFor: "90s", latencyP99Seconds: 2.5, latencyFor: "1h30m", exporterDownFor: "2m", seriesFlood: 2500 });
  });

  it("reads the alert routing timers and Prometheus's retention size", () => {
    const config = readStackConfig(
      source({ topology: "exporter", alertGroupWait: "5s", alertGroupInterval: "10s", alertRepeatInterval: "12h", prometheusRetentionSize: "512MB" }),
      "demo",
    );
    assert.deepEqual([config.alertRouting, config.prometheusRetentionSize], [{ groupWait: "5s", groupInterval: "10s", repeatInterval: "12h" }, "512MB"]);
  });

  it("accepts a webhook URL set as a secret, and passes it on as one", () => {
    const config = readStackConfig(source({ topology: "exporter", alertWebhookUrl: "https://hooks.example.com/a?token=t0k3n" }, ["alertWebhookUrl"]), "demo");
    assert.equal(config.alertWebhookUrl, "secret:https://hooks.example.com/a?token=t0k3n");
  });

  it("a webhook URL in plain text is rejected without showing it", () => {
    assert.deepEqual(problems({ topology: "exporter", alertWebhookUrl: "https://hooks.example.com/a?token=t0k3n" }), [
      "statsd-stack:alertWebhookUrl is stored in plain text: set it with `pulumi config set --secret alertWebhookUrl <url>` (it often carries a token; the value is not shown)",
    ]);
  });

  for (const url of ["hooks.example.com/alerts", "ftp://hooks.example.com/a", "http://:8080/alerts", "https://hooks.example.com/a b"]) {
    it(`a secret webhook URL that is not an http(s) URL with a host (${JSON.stringify(url)}) is rejected without showing it`, () => {
      assert.deepEqual(problems({ topology: "exporter", alertWebhookUrl: url }, ["alertWebhookUrl"]), [
        "statsd-stack:alertWebhookUrl is not valid: expected an absolute http:// or https:// URL with a host, e.g. https://hooks.example.com/alerts (the value is a secret and not shown)",
      ]);
    });
  }

  it("accepts an admin password set as a secret", () => {
    const config = readStackConfig(source({ topology: "graphite", grafanaAdminPassword: "correct-horse-battery" }, ["grafanaAdminPassword"]), "demo");
    assert.equal(config.grafanaAdminPassword, "secret:correct-horse-battery");
  });

  it("accepts a graphite-web admin password set as a secret", () => {
    const config = readStackConfig(source({ topology: "graphite", graphiteAdminPassword: "staple-battery-horse" }, ["graphiteAdminPassword"]), "demo");
    assert.equal(config.graphiteAdminPassword, "secret:staple-battery-horse");
  });

  const cases: Array<[string, Record<string, string>, string]> = [
    ["an unknown topology", { topology: "influx" }, 'statsd-stack:topology = "influx" is not valid: expected one of graphite, exporter'],
    ["a missing topology", {}, "statsd-stack:topology is not set: expected one of graphite, exporter"],
    ["an unknown platform", { topology: "graphite", platform: "nomad" }, 'statsd-stack:platform = "nomad" is not valid: expected one of docker, kubernetes'],
    ["a port out of range", { topology: "graphite", apiPort: "70000" }, 'statsd-stack:apiPort = "70000" is not valid: expected an integer from 1 to 65535'],
    ["replicas below 1", { topology: "graphite", appReplicas: "0" }, 'statsd-stack:appReplicas = "0" is not valid: expected an integer from 1 to 20'],
    ["an unknown exporter mode", { topology: "exporter", exporterMode: "daemonset" }, 'statsd-stack:exporterMode = "daemonset" is not valid: expected one of central, sidecar'],
    [
      "sidecar exporters on the graphite topology",
      { topology: "graphite", exporterMode: "sidecar" },
      'statsd-stack:exporterMode = "sidecar" is not valid: expected central on topology graphite (statsd_exporter runs only in the exporter topology; sidecar puts one beside each app replica there)',
    ],
    ["a bind address that is not IPv4", { topology: "graphite", bindAddress: "localhost" }, 'statsd-stack:bindAddress = "localhost" is not valid: expected an IPv4 address such as 127.0.0.1 (0.0.0.0 publishes on every interface)'],
    ["a malformed image", { topology: "graphite", grafanaImage: "Grafana Latest" }, 'statsd-stack:grafanaImage = "Grafana Latest" is not valid: expected an image reference such as prom/prometheus:v3.13.5'],
    ["a metric prefix with a dot", { topology: "graphite", metricPrefix: "a.b" }, 'statsd-stack:metricPrefix = "a.b" is not valid: expected letters, digits and _ (not starting with a digit), e.g. sample_api'],
    ["a namespace that is not a DNS label", { topology: "graphite", namespace: "My_NS" }, 'statsd-stack:namespace = "My_NS" is not valid: expected a Kubernetes namespace name: up to 63 lowercase letters, digits and -'],
    ["a node address with a scheme", { topology: "graphite", nodeAddress: "http://10.0.0.1" }, 'statsd-stack:nodeAddress = "http://10.0.0.1" is not valid: expected a host name or IPv4 address, e.g. 127.0.0.1 or 192.168.49.2'],
    [
      "a cluster other than kind with no way to get the app image",
      { topology: "graphite", platform: "kubernetes", kubeContext: "prod" },
      'statsd-stack:appImage is not set: kubeContext = "prod" is not a kind cluster, so the locally built app image cannot reach it; expected appImage (an image the cluster can pull) or imageLoadCommand (a command that copies $IMAGE into the cluster)',
    ],
    [
      "an admin password in plain text",
      { topology: "graphite", grafanaAdminPassword: "correct-horse-battery" },
      "statsd-stack:grafanaAdminPassword is stored in plain text: set it with `pulumi config set --secret grafanaAdminPassword <password>` (the value is not shown)",
    ],
    [
      "a graphite-web admin password in plain text",
      { topology: "graphite", graphiteAdminPassword: "staple-battery-horse" },
      "statsd-stack:graphiteAdminPassword is stored in plain text: set it with `pulumi config set --secret graphiteAdminPassword <password>` (the value is not shown)",
    ],
    ["a statsd expiry in days", { topology: "graphite", graphiteOwnMetricsExpiry: "1d" }, 'statsd-stack:graphiteOwnMetricsExpiry = "1d" is not valid: expected a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m, or 0s for never'],
    ["a statsd expiry without a unit", { topology: "graphite", graphiteOwnMetricsExpiry: "3600" }, 'statsd-stack:graphiteOwnMetricsExpiry = "3600" is not valid: expected a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m, or 0s for never'],
    ["a whisper prune age in days", { topology: "graphite", graphiteOwnMetricsPruneAfter: "7d" }, `statsd-stack:graphiteOwnMetricsPruneAfter = "7d" is not valid: expected a Go duration in whole hours, minutes and seconds of at least 1h (carbon may hold a series' points for minutes before it writes them), such as 168h or 720h, or 0s for never`],
    ["a whisper prune age under an hour", { topology: "graphite", graphiteOwnMetricsPruneAfter: "59m59s" }, `statsd-stack:graphiteOwnMetricsPruneAfter = "59m59s" is not valid: expected a Go duration in whole hours, minutes and seconds of at least 1h (carbon may hold a series' points for minutes before it writes them), such as 168h or 720h, or 0s for never`],
    ["a receive buffer with a unit", { topology: "exporter", statsdReceiveBuffer: "4MiB" }, 'statsd-stack:statsdReceiveBuffer = "4MiB" is not valid: expected an integer from 0 to 268435456'],
    ["a receive buffer over 256 MiB", { topology: "graphite", statsdReceiveBuffer: "268435457" }, 'statsd-stack:statsdReceiveBuffer = "268435457" is not valid: expected an integer from 0 to 268435456'],
    ["an exporter TTL in days", { topology: "exporter", exporterOwnMetricsTtl: "1d" }, 'statsd-stack:exporterOwnMetricsTtl = "1d" is not valid: expected a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m, or 0s for never'],
    ["a server-error ratio of 1 or more", { topology: "exporter", alertServerErrorRatio: "5" }, 'statsd-stack:alertServerErrorRatio = "5" is not valid: expected a number greater than 0 and less than 1, e.g. 0.05 for 5%'],
    ["a server-error ratio of 0", { topology: "exporter", alertServerErrorRatio: "0" }, 'statsd-stack:alertServerErrorRatio = "0" is not valid: expected a number greater than 0 and less than 1, e.g. 0.05 for 5%'],
    ["a server-error ratio given as a percentage", { topology: "exporter", alertServerErrorRatio: "5%" }, 'statsd-stack:alertServerErrorRatio = "5%" is not valid: expected a number greater than 0 and less than 1, e.g. 0.05 for 5%'],
    ["a server-error duration without a unit", { topology: "exporter", alertServerErrorFor: "300" }, 'statsd-stack:alertServerErrorFor = "300" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)'],
    ["a negative latency threshold", { topology: "exporter", alertLatencyP99Seconds: "-1" }, 'statsd-stack:alertLatencyP99Seconds = "-1" is not valid: expected a number of seconds greater than 0, e.g. 6 or 2.5'],
    ["a latency threshold with a unit", { topology: "exporter", alertLatencyP99Seconds: "6s" }, 'statsd-stack:alertLatencyP99Seconds = "6s" is not valid: expected a number of seconds greater than 0, e.g. 6 or 2.5'],
    ["a series flood threshold of 0", { topology: "graphite", alertSeriesFlood: "0" }, 'statsd-stack:alertSeriesFlood = "0" is not valid: expected an integer from 1 to 100000000'],
    ["a series flood threshold with a unit", { topology: "exporter", alertSeriesFlood: "10k" }, 'statsd-stack:alertSeriesFlood = "10k" is not valid: expected an integer from 1 to 100000000'],
    ["a latency duration with its units out of order", { topology: "exporter", alertLatencyFor: "30m1h" }, 'statsd-stack:alertLatencyFor = "30m1h" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)'],
    ["a group wait without a unit", { topology: "exporter", alertGroupWait: "30" }, 'statsd-stack:alertGroupWait = "30" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)'],
    ["a repeat interval in words", { topology: "exporter", alertRepeatInterval: "4 hours" }, 'statsd-stack:alertRepeatInterval = "4 hours" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)'],
    ["a Prometheus retention time of 0", { topology: "exporter", prometheusRetentionTime: "0" }, 'statsd-stack:prometheusRetentionTime = "0" is not valid: expected a duration longer than 0, such as 15d'],
    ["a Prometheus retention time in days as a word", { topology: "exporter", prometheusRetentionTime: "7 days" }, 'statsd-stack:prometheusRetentionTime = "7 days" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)'],
    ["carbon retentions starting coarser than statsd's flush", { topology: "graphite", graphiteRetentions: "1m:7d,10m:1y" }, 'statsd-stack:graphiteRetentions = "1m:7d,10m:1y" is not valid: expected carbon retentions such as 10s:6h,1m:7d,10m:1y (the first (finest) precision must be statsd\'s flush interval, 10s)'],
    ["carbon retentions whose precisions do not divide", { topology: "graphite", graphiteRetentions: "10s:6h,25s:7d" }, 'statsd-stack:graphiteRetentions = "10s:6h,25s:7d" is not valid: expected carbon retentions such as 10s:6h,1m:7d,10m:1y (25s is not a multiple of 10s: each precision must divide the next)'],
    ["carbon retentions that keep less for longer precision", { topology: "graphite", graphiteRetentions: "10s:7d,1m:1d" }, 'statsd-stack:graphiteRetentions = "10s:7d,1m:1d" is not valid: expected carbon retentions such as 10s:6h,1m:7d,10m:1y (each archive must keep points longer than the one before it)'],
    ["carbon retentions in a made-up syntax", { topology: "graphite", graphiteRetentions: "10s for 6h" }, 'statsd-stack:graphiteRetentions = "10s for 6h" is not valid: expected carbon retentions such as 10s:6h,1m:7d,10m:1y ("10s for 6h" is not <precision>:<duration> with units s, m, h, d, w, y (e.g. 10s:6h))'],
    ["a retention size in GiB", { topology: "exporter", prometheusRetentionSize: "2GiB" }, 'statsd-stack:prometheusRetentionSize = "2GiB" is not valid: expected a size such as 512MB or 2GB: a whole number and one of the units B, KB, MB, GB, TB, PB, EB (powers of 1024)'],
    ["a retention size of 0", { topology: "exporter", prometheusRetentionSize: "0GB" }, 'statsd-stack:prometheusRetentionSize = "0GB" is not valid: expected a size such as 512MB or 2GB: a whole number and one of the units B, KB, MB, GB, TB, PB, EB (powers of 1024)'],
    ["a retention size without a unit", { topology: "exporter", prometheusRetentionSize: "2000000" }, 'statsd-stack:prometheusRetentionSize = "2000000" is not valid: expected a size such as 512MB or 2GB: a whole number and one of the units B, KB, MB, GB, TB, PB, EB (powers of 1024)'],
    ["ephemeral storage on Docker", { topology: "exporter", storage: "ephemeral" }, 'statsd-stack:storage = "ephemeral" is not valid: expected persistent on platform docker (the data is on named volumes there; ephemeral, an emptyDir, is for platform kubernetes)'],
    ["a storage mode that does not exist", { topology: "exporter", platform: "kubernetes", storage: "hostpath" }, 'statsd-stack:storage = "hostpath" is not valid: expected one of persistent, ephemeral'],
    ["a StorageClass name in capitals", { topology: "exporter", storageClass: "Fast_SSD" }, 'statsd-stack:storageClass = "Fast_SSD" is not valid: expected a StorageClass name (lowercase letters, digits, - and .), or unset for the cluster\'s default class'],
    ["a claim size in GB", { topology: "graphite", graphiteStorageSize: "10GB" }, 'statsd-stack:graphiteStorageSize = "10GB" is not valid: expected a Kubernetes quantity in whole Mi, Gi or Ti, such as 512Mi or 10Gi'],
    ["a claim size in bytes", { topology: "exporter", alertmanagerStorageSize: "1073741824" }, 'statsd-stack:alertmanagerStorageSize = "1073741824" is not valid: expected a Kubernetes quantity in whole Mi, Gi or Ti, such as 512Mi or 10Gi'],
    [
      "a Prometheus claim no larger than its retention size",
      { topology: "exporter", platform: "kubernetes", prometheusStorageSize: "2Gi" },
      'statsd-stack:prometheusStorageSize = "2Gi" is not valid: expected a size larger than prometheusRetentionSize (2GB), so that Prometheus deletes its oldest blocks before the volume is full',
    ],
    ["a data policy that does not exist", { topology: "graphite", dataOnDestroy: "keep" }, 'statsd-stack:dataOnDestroy = "keep" is not valid: expected one of delete, retain'],
    ["two services on one host port", { topology: "graphite", grafanaPort: "8000" }, "statsd-stack:grafanaPort = 3000 clashes with statsd-stack:apiPort: each host port can be published once"],
  ];
  for (const [what, values, message] of cases) {
    it(`${what} is rejected with: ${message}`, () => {
      const found = problems(values);
      assert.deepEqual(found, [message.replace("grafanaPort = 3000", "grafanaPort = 8000")]);
    });
  }

  it("storage keys on Kubernetes: a class, sizes, ephemeral, and retain on destroy", () => {
    const config = readStackConfig(
      source({ topology: "exporter", platform: "kubernetes", storageClass: "fast-ssd", prometheusStorageSize: "3Gi", alertmanagerStorageSize: "256Mi", dataOnDestroy: "retain" }),
      "demo",
    );
    assert.deepEqual(config.storage, { mode: "persistent", className: "fast-ssd", sizes: { prometheusStorageSize: "3Gi", alertmanagerStorageSize: "256Mi", graphiteStorageSize: "10Gi" }, retain: true });
    assert.equal(readStackConfig(source({ topology: "exporter", platform: "kubernetes", storage: "ephemeral" }), "demo").storage.mode, "ephemeral");
  });

  it("a Prometheus claim smaller than the retention size is accepted where no claim is made: Docker, ephemeral, or retention by time only", () => {
    for (const values of <Array<Record<string, string>>>[
      { topology: "exporter", prometheusStorageSize: "1Gi" },
      { topology: "exporter", platform: "kubernetes", storage: "ephemeral", prometheusStorageSize: "1Gi" },
      { topology: "exporter", platform: "kubernetes", prometheusRetentionSize: "", prometheusStorageSize: "1Gi" },
    ]) {
      assert.equal(readStackConfig(source(values), "demo").storage.sizes.prometheusStorageSize, "1Gi", JSON.stringify(values));
    }
  });

  it("a host port taken by another replica of the API is a clash (Docker publishes replica n on apiPort + n)", () => {
    assert.deepEqual(problems({ topology: "graphite", appReplicas: "3", grafanaPort: "8002" }), [
      "statsd-stack:grafanaPort = 8002 clashes with statsd-stack:apiPort + 2: each host port can be published once",
    ]);
  });

  it("in sidecar mode each replica's exporter ports are published at the port + n too, and clash like the API's", () => {
    // TCP and UDP ports do not clash: 9125-9127/tcp beside 9126-9128/udp.
    assert.equal(readStackConfig(source({ topology: "exporter", exporterMode: "sidecar", appReplicas: "3", exporterPort: "9125", statsdPort: "9126" }), "demo").exporterMode, "sidecar");
    assert.deepEqual(problems({ topology: "exporter", exporterMode: "sidecar", appReplicas: "3", exporterPort: "7999" }), [
      "statsd-stack:exporterPort + 1 = 8000 (replica 1) clashes with statsd-stack:apiPort: each host port can be published once",
      "statsd-stack:exporterPort + 2 = 8001 (replica 2) clashes with statsd-stack:apiPort + 1: each host port can be published once",
    ]);
  });

  it("a short secret admin password is rejected without showing it", () => {
    assert.deepEqual(problems({ topology: "graphite", grafanaAdminPassword: "hunter2" }, ["grafanaAdminPassword"]), [
      "statsd-stack:grafanaAdminPassword is not valid: expected at least 12 characters (the value is a secret and not shown)",
    ]);
  });

  it("the image's own graphite-web password, root, is rejected as a secret too, without showing it", () => {
    assert.deepEqual(problems({ topology: "graphite", graphiteAdminPassword: "root" }, ["graphiteAdminPassword"]), [
      "statsd-stack:graphiteAdminPassword is not valid: expected at least 12 characters (the value is a secret and not shown)",
    ]);
  });

  it("reports every bad alert threshold at once, with the other keys' problems", () => {
    assert.deepEqual(
      problems({ topology: "x", alertServerErrorRatio: "", alertServerErrorFor: "5 min", alertLatencyP99Seconds: "0", alertLatencyFor: "" }),
      [
        'statsd-stack:topology = "x" is not valid: expected one of graphite, exporter',
        'statsd-stack:alertServerErrorRatio = "" is not valid: expected a number greater than 0 and less than 1, e.g. 0.05 for 5%',
        'statsd-stack:alertServerErrorFor = "5 min" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)',
        'statsd-stack:alertLatencyP99Seconds = "0" is not valid: expected a number of seconds greater than 0, e.g. 6 or 2.5',
        'statsd-stack:alertLatencyFor = "" is not valid: expected a Prometheus duration such as 90s, 5m or 1h30m (units y, w, d, h, m, s, ms, largest first)',
      ],
    );
  });

  it("reports every problem at once", () => {
    assert.deepEqual(problems({ topology: "x", platform: "y", appReplicas: "-1" }), [
      'statsd-stack:topology = "x" is not valid: expected one of graphite, exporter',
      'statsd-stack:platform = "y" is not valid: expected one of docker, kubernetes',
      'statsd-stack:appReplicas = "-1" is not valid: expected an integer from 1 to 20',
    ]);
  });
});
