/**
 * The stack on the Kubernetes platform, under Pulumi's mocks (the real cluster is the deploy tier's): the objects it
 * would apply, validated against the Kubernetes OpenAPI schema, how they are wired and what the stack exposes.
 * Several stacks run in this one process.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { MAPPING_PATH } from "../../pipeline/exporter";
import { ROLLING_UPDATE, rolloutWaitFor } from "../../components/platform/kubernetes";
import { ofType, one, parentChain, typeCounts } from "../support/graph";
import { validate } from "../support/kubernetes";
import { imageIdOf, plainOccurrences, runProgram, type CapturedResource, type ProgramRun } from "../support/program";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
/** Every Deployment and StatefulSet (the workloads that keep data on claims). */
const workloads = (run: ProgramRun): CapturedResource[] => [...ofType(run, DEPLOYMENT), ...ofType(run, STATEFULSET)];
/** The one Deployment or StatefulSet whose name includes `name`. */
const workloadOf = (run: ProgramRun, name: string) => {
  const found = workloads(run).filter((w) => w.name.includes(name));
  if (found.length !== 1) throw new Error(`expected one workload named *${name}*, found ${found.map((w) => w.name).join(", ") || "none"}`);
  return found[0]!;
};
const SERVICE = "kubernetes:core/v1:Service";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";

const containerOf = (d: { inputs: any }) => d.inputs.spec.template.spec.containers[0];
const envOf = (d: { inputs: any }) =>
  Object.fromEntries((containerOf(d).env as any[]).filter((e) => "value" in e).map((e) => [e.name, e.value]));
/** The NodePort the (mock) API server assigned to a named port of a NodePort Service. */
const assignedNodePort = (run: ProgramRun, service: string, port: string): number =>
  (one(run, SERVICE, service).state.spec.ports as any[]).find((p) => p.name === port).nodePort;

describe("kubernetes platform, exporter topology", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", {
      topology: "exporter",
      platform: "kubernetes",
      alertServerErrorRatio: "0.2",
      alertServerErrorFor: "90s",
      alertLatencyP99Seconds: "1.5",
      alertLatencyFor: "1h",
    });
  });

  it("registers a provider, a namespace with a default-deny ingress policy, per workload a Deployment (a StatefulSet and a claim for Prometheus and Alertmanager), a Service, a NodePort Service and a NetworkPolicy, and reads kube-system", () => {
    assert.deepEqual(typeCounts(run), {
      "command:local:Command": 1,
      "docker:index/image:Image": 1,
      "docker:index/remoteImage:RemoteImage": 1,
      "kubernetes:apps/v1:Deployment": 3,
      "kubernetes:apps/v1:StatefulSet": 2,
      "kubernetes:core/v1:ConfigMap": 4,
      "kubernetes:core/v1:Namespace": 2,
      "kubernetes:core/v1:PersistentVolumeClaim": 2,
      "kubernetes:core/v1:Secret": 1,
      "kubernetes:core/v1:Service": 10,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy": 6,
      "pulumi:providers:kubernetes": 1,
      "random:index/randomPassword:RandomPassword": 2,
      "statsd-stack:index:Alertmanager": 1,
      "statsd-stack:index:Grafana": 1,
      "statsd-stack:index:KubernetesPlatform": 1,
      "statsd-stack:index:Prometheus": 1,
      "statsd-stack:index:SampleApi": 1,
      "statsd-stack:index:StatsdExporter": 1,
      "statsd-stack:index:Topology": 1,
    });
  });

  it("targets the kind context and a namespace named after the stack, both owned by the platform component", () => {
    const provider = one(run, "pulumi:providers:kubernetes", "platform-provider");
    const namespace = one(run, "kubernetes:core/v1:Namespace", "platform-namespace");
    assert.deepEqual([provider.inputs.context, provider.parent], ["kind-statsd-stack", "statsd-stack:index:KubernetesPlatform::platform"]);
    assert.deepEqual([namespace.inputs.metadata.name, namespace.parent], ["statsd-stack-exporter", "statsd-stack:index:KubernetesPlatform::platform"]);
  });

  it("every object passes the Kubernetes OpenAPI schema", async () => {
    const kinds: string[] = [];
    // The kube-system namespace is only read (its uid tells a new cluster from the old one), not applied.
    for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.name !== "platform-cluster-identity")) {
      kinds.push(await validate(r));
    }
    assert.equal(kinds.length, 29);
  });

  it("every Deployment and StatefulSet has readiness and liveness probes, requests and limits, and no service account token", () => {
    for (const d of workloads(run)) {
      const c = containerOf(d);
      assert.ok(c.readinessProbe && c.livenessProbe, d.name);
      assert.deepEqual(Object.keys(c.resources.limits).sort(), ["cpu", "memory"], d.name);
      assert.deepEqual(Object.keys(c.resources.requests).sort(), ["cpu", "memory"], d.name);
      assert.equal(d.inputs.spec.template.spec.automountServiceAccountToken, false, d.name);
    }
  });

  it("runs every workload of this topology as non-root with a read-only root filesystem and no capabilities", () => {
    for (const d of workloads(run)) {
      assert.equal(d.inputs.spec.template.spec.securityContext.runAsNonRoot, true, d.name);
      const sc = containerOf(d).securityContext;
      assert.deepEqual([sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.capabilities.drop], [true, false, ["ALL"]], d.name);
    }
  });

  it("wires the app to the exporter Service's name and UDP port", () => {
    const exporterService = one(run, SERVICE, "pipeline-exporter-service");
    const env = envOf(workloadOf(run, "api"));
    assert.equal(env.STATSD_HOST, exporterService.inputs.metadata.name);
    assert.equal(env.STATSD_PORT, "9125");
    assert.ok(exporterService.inputs.spec.ports.some((p: any) => p.port === 9125 && p.protocol === "UDP"));
  });

  it("scrapes the exporter Service from Prometheus, through an auto-named ConfigMap mounted at the config path", () => {
    const configMap = one(run, CONFIGMAP, "prometheus");
    const config = parse(configMap.inputs.data["etc_prometheus_prometheus.yml"]);
    assert.deepEqual(config.scrape_configs[0].static_configs[0].targets, ["statsd-exporter:9102"]);
    assert.equal(configMap.inputs.metadata.name, undefined);
    const prometheus = workloadOf(run, "prometheus");
    assert.equal(prometheus.inputs.spec.template.spec.volumes[0].configMap.name, "pipeline-prometheus-config-abc123");
    assert.deepEqual(containerOf(prometheus).volumeMounts[0], {
      name: "config",
      mountPath: "/etc/prometheus/prometheus.yml",
      subPath: "etc_prometheus_prometheus.yml",
      readOnly: true,
    });
  });

  it("mounts the rule file beside Prometheus's config, which names it, with the configured thresholds", () => {
    const data = one(run, CONFIGMAP, "prometheus").inputs.data;
    assert.deepEqual(Object.keys(data), ["etc_prometheus_prometheus.yml", "etc_prometheus_rules.yml"]);
    assert.deepEqual(parse(data["etc_prometheus_prometheus.yml"]).rule_files, ["rules.yml"]);
    assert.deepEqual(containerOf(workloadOf(run, "prometheus")).volumeMounts[1], {
      name: "config",
      mountPath: "/etc/prometheus/rules.yml",
      subPath: "etc_prometheus_rules.yml",
      readOnly: true,
    });
    const alerts = parse(data["etc_prometheus_rules.yml"]).groups[1].rules;
    assert.deepEqual(
      alerts.filter((r: any) => r.alert === "AppHighServerErrorRatio" || r.alert === "AppHighLatencyP99").map((r: any) => [r.expr, r.for]),
      [
        ["app_name:http_requests_server_errors:ratio_rate5m > 0.2", "90s"],
        ["app_name:http_request_duration_seconds:p99_rate5m > 1.5", "1h"],
      ],
    );
  });

  it("points Grafana's only datasource at the Prometheus Service", () => {
    const data = one(run, CONFIGMAP, "grafana").inputs.data;
    const provisioning = parse(data["etc_grafana_provisioning_datasources_statsd-stack.yaml"]);
    assert.deepEqual(provisioning.datasources.map((d: any) => d.url), [`http://${one(run, SERVICE, "prometheus-service").inputs.metadata.name}:9090`]);
  });

  it("keeps the generated admin password and secret_key in a Secret that Grafana's env references, and in no plain input", () => {
    const generated = one(run, "random:index/randomPassword:RandomPassword", "grafana-admin-password").state.result as string;
    const key = one(run, "random:index/randomPassword:RandomPassword", "grafana-secret-key").state.result as string;
    const secret = one(run, "kubernetes:core/v1:Secret", "grafana");
    assert.deepEqual(secret.inputs.stringData, { GF_SECURITY_ADMIN_PASSWORD: generated, GF_SECURITY_SECRET_KEY: key });
    assert.deepEqual(plainOccurrences(run, key), []);
    const ref = (containerOf(workloadOf(run, "grafana")).env as any[]).find((e) => e.name === "GF_SECURITY_ADMIN_PASSWORD");
    assert.deepEqual(ref.valueFrom.secretKeyRef, { name: secret.state.metadata.name, key: "GF_SECURITY_ADMIN_PASSWORD" });
    assert.equal(run.outputs.grafanaAdminPassword, generated);
    assert.deepEqual(plainOccurrences(run, generated), []);
  });

  it("exposes only the published ports, as the exporter topology's fixed NodePorts that kind forwards", () => {
    const byType = (type: string) =>
      ofType(run, SERVICE)
        .filter((s) => s.inputs.spec.type === type)
        .flatMap((s) => (s.inputs.spec.ports as any[]).map((p) => `${s.inputs.metadata.name} ${p.nodePort ?? "-"}/${p.protocol}->${p.port}`))
        .sort();
    assert.deepEqual(byType("NodePort"), [
      "alertmanager-nodeport 30093/TCP->9093",
      "grafana-nodeport 30301/TCP->3000",
      "prometheus-nodeport 30090/TCP->9090",
      "sample-api-nodeport 30801/TCP->8000",
      "statsd-exporter-nodeport 30102/TCP->9102",
      "statsd-exporter-nodeport 30925/UDP->9125",
    ]);
    assert.deepEqual(byType("ClusterIP"), [
      "alertmanager -/TCP->9093",
      "grafana -/TCP->3000",
      "prometheus -/TCP->9090",
      "sample-api -/TCP->8000",
      "statsd-exporter -/TCP->9102",
      "statsd-exporter -/UDP->9125",
    ]);
  });

  it("loads the locally built app image into the kind cluster, again when the image or the cluster changes", () => {
    const load = one(run, "command:local:Command", "image-load");
    assert.equal(load.inputs.create, 'kind load docker-image "$IMAGE" --name statsd-stack');
    assert.match(load.inputs.environment.IMAGE, /^statsd-stack-exporter\/sample-api:[0-9a-f]{16}$/);
    assert.equal(containerOf(workloadOf(run, "api")).image, load.inputs.environment.IMAGE);
    const imageId = one(run, "docker:index/remoteImage:RemoteImage", "api-image");
    assert.deepEqual(load.inputs.triggers, [imageIdOf(imageId.name), "uid-of-platform-cluster-identity"]);
    assert.deepEqual(parentChain(run, load), ["statsd-stack:index:SampleApi::pipeline-api", "statsd-stack:index:Topology::pipeline"]);
  });

  it("gives Prometheus 60 s to close its TSDB after SIGTERM, with no preStop", () => {
    const prometheus = workloadOf(run, "prometheus");
    assert.equal(prometheus.inputs.spec.template.spec.terminationGracePeriodSeconds, 60);
    assert.equal(containerOf(prometheus).lifecycle, undefined);
  });

  it("gives the app a preStop drain and a grace period that covers it and the app's own shutdown timeout", () => {
    const api = workloadOf(run, "api");
    assert.deepEqual(containerOf(api).lifecycle, { preStop: { sleep: { seconds: 5 } } });
    assert.equal(api.inputs.spec.template.spec.terminationGracePeriodSeconds, 20);
    assert.equal(envOf(api).SHUTDOWN_TIMEOUT_SECONDS, "10");
    assert.deepEqual(api.inputs.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it("waits, on create and update, until every replica of each Deployment and StatefulSet runs the new template and no old one is left", () => {
    for (const d of workloads(run)) {
      assert.deepEqual(
        JSON.parse(d.inputs.metadata.annotations["pulumi.com/waitFor"]),
        ["jsonpath={.status.updatedReplicas}=1", "jsonpath={.status.availableReplicas}=1", "jsonpath={.status.replicas}=1"],
        d.name,
      );
      assert.deepEqual(d.options.customTimeouts, { create: "5m", update: "5m" }, d.name);
    }
  });

  it("waits for as many replicas as the Deployment asks for", () => {
    assert.deepEqual(JSON.parse(rolloutWaitFor(3)), [
      "jsonpath={.status.updatedReplicas}=3",
      "jsonpath={.status.availableReplicas}=3",
      "jsonpath={.status.replicas}=3",
    ]);
  });

  it("runs Grafana read-only with its data directory in an emptyDir and its logs on stdout only", () => {
    const grafana = workloadOf(run, "grafana");
    assert.equal(containerOf(grafana).securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(
      containerOf(grafana).volumeMounts.filter((m: any) => !m.subPath).map((m: any) => m.mountPath),
      ["/var/lib/grafana", "/tmp"],
    );
    assert.equal(envOf(grafana).GF_LOG_MODE, "console");
  });

  it("exports the kind host URLs of the exporter stack", () => {
    assert.deepEqual(
      [run.outputs.apiUrl, run.outputs.grafanaUrl, run.outputs.prometheusUrl, run.outputs.exporterMetricsUrl, run.outputs.statsdEndpoint],
      ["http://127.0.0.1:8100", "http://127.0.0.1:3001", "http://127.0.0.1:9090", "http://127.0.0.1:9102/metrics", "127.0.0.1:9125"],
    );
  });
});

describe("kubernetes platform, exporter topology in sidecar mode (exporterMode sidecar, appReplicas 3)", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", { topology: "exporter", platform: "kubernetes", exporterMode: "sidecar", appReplicas: "3" });
  });
  const podOf = () => workloadOf(run, "api").inputs.spec.template.spec;

  it("every object passes the Kubernetes OpenAPI schema, the sidecar's pod and headless Service included", async () => {
    for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.name !== "platform-cluster-identity")) await validate(r);
  });

  it("runs no central exporter: no statsd_exporter Deployment, Service or component", () => {
    assert.deepEqual(workloads(run).map((w) => w.name).sort(), [
      "pipeline-alertmanager-statefulset",
      "pipeline-api-deployment",
      "pipeline-grafana-deployment",
      "pipeline-prometheus-statefulset",
    ]);
    assert.equal(typeCounts(run)["statsd-stack:index:StatsdExporter"], undefined);
    assert.deepEqual(ofType(run, SERVICE).filter((s) => s.inputs.metadata.name?.startsWith("statsd-exporter")), []);
  });

  it("gives each of the 3 app pods a native sidecar statsd_exporter (restartPolicy Always), as its own user, whose preStop sleep outlasts the app's 20 s grace period by 15 s", () => {
    const pod = podOf();
    const sidecar = pod.initContainers[0];
    assert.equal(workloadOf(run, "api").inputs.spec.replicas, 3);
    assert.deepEqual(
      [pod.initContainers.length, sidecar.name, sidecar.restartPolicy, sidecar.lifecycle, sidecar.securityContext.runAsUser, sidecar.securityContext.readOnlyRootFilesystem],
      [1, "statsd-exporter", "Always", { preStop: { sleep: { seconds: 35 } } }, 65534, true],
    );
    assert.deepEqual(sidecar.ports.map((p: any) => `${p.name} ${p.containerPort}/${p.protocol}`), ["statsd 9125/UDP", "web 9102/TCP"]);
    assert.deepEqual(sidecar.args, [
      `--statsd.mapping-config=${MAPPING_PATH}`,
      "--statsd.listen-udp=:9125",
      "--statsd.listen-tcp=:9125",
      "--web.listen-address=:9102",
      "--statsd.read-buffer=4194304",
    ]);
  });

  it("gives the pod a grace period of the sidecar's 35 s preStop sleep and 5 s for its SIGTERM", () => {
    assert.equal(podOf().terminationGracePeriodSeconds, 40);
  });

  it("mounts the catalog's mapping into the sidecar from the app's ConfigMap, and sends the app's StatsD to it on localhost", () => {
    const pod = podOf();
    const mount = pod.initContainers[0].volumeMounts.find((m: any) => m.mountPath === MAPPING_PATH);
    assert.deepEqual([mount?.name, mount?.readOnly], ["config", true]);
    const configMap = one(run, CONFIGMAP, "pipeline-api-config");
    assert.equal(parse(configMap.inputs.data[mount.subPath]).mappings.length, 3);
    assert.deepEqual([envOf(workloadOf(run, "api")).STATSD_HOST, envOf(workloadOf(run, "api")).STATSD_PORT], ["127.0.0.1", "9125"]);
  });

  it("makes a headless Service of the app's pods, not-ready ones included, on the sidecar's ports: Prometheus's DNS discovery target", () => {
    const headless = one(run, SERVICE, "pipeline-api-replicas");
    assert.deepEqual(
      [headless.inputs.metadata.name, headless.inputs.spec.clusterIP, headless.inputs.spec.publishNotReadyAddresses, headless.inputs.spec.ports.map((p: any) => p.name)],
      ["sample-api-replicas", "None", true, ["statsd", "web"]],
    );
    const config = parse(one(run, CONFIGMAP, "pipeline-prometheus-config").inputs.data["etc_prometheus_prometheus.yml"]);
    assert.deepEqual(config.scrape_configs[0].dns_sd_configs, [{ names: ["sample-api-replicas"], type: "A", port: 9102, refresh_interval: "5s" }]);
  });

  it("publishes the sidecars' StatsD and /metrics on the app's NodePort Service, and its NetworkPolicy admits them", () => {
    const nodePort = one(run, SERVICE, "pipeline-api-nodeport");
    assert.deepEqual(nodePort.inputs.spec.ports.map((p: any) => `${p.name} ${p.port}/${p.protocol}`), ["http 8000/TCP", "statsd 9125/UDP", "web 9102/TCP"]);
    const policy = one(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "pipeline-api-ingress");
    assert.deepEqual(policy.inputs.spec.ingress[0].ports, [
      { port: 8000, protocol: "TCP" },
      { port: 9125, protocol: "UDP" },
      { port: 9102, protocol: "TCP" },
    ]);
  });
});

describe("kubernetes platform, graphite topology", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("graphite", {
      topology: "graphite",
      platform: "kubernetes",
      kubeContext: "prod-cluster",
      namespace: "metrics-demo",
      appImage: "registry.example.com/sample-api:1.0.0",
      nodeAddress: "10.1.2.3",
    });
  });

  it("every object passes the Kubernetes OpenAPI schema", async () => {
    const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    for (const r of objects) await validate(r);
    assert.equal(objects.length, 19);
  });

  it("uses the configured context and namespace, and the given app image without building or loading it", () => {
    assert.equal(one(run, "pulumi:providers:kubernetes", "platform-provider").inputs.context, "prod-cluster");
    assert.equal(one(run, "kubernetes:core/v1:Namespace", "platform-namespace").inputs.metadata.name, "metrics-demo");
    assert.equal(containerOf(workloadOf(run, "api")).image, "registry.example.com/sample-api:1.0.0");
    assert.equal(ofType(run, "command:local:Command").length, 0);
    assert.equal(ofType(run, "docker:index/image:Image").length, 0);
  });

  it("runs graphite-statsd as root (the image needs it) and the app and Grafana as non-root", () => {
    const nonRoot = workloads(run).map((d) => [d.name, d.inputs.spec.template.spec.securityContext.runAsNonRoot ?? false]);
    assert.deepEqual(nonRoot, [
      ["pipeline-api-deployment", true],
      ["pipeline-grafana-deployment", true],
      ["pipeline-graphite-statefulset", false],
    ]);
  });

  it("wires the app to the graphite Service's name and UDP StatsD port", () => {
    const graphite = one(run, SERVICE, "pipeline-graphite-service");
    const env = Object.fromEntries((containerOf(workloadOf(run, "api")).env as any[]).map((e) => [e.name, e.value]));
    assert.equal(env.STATSD_HOST, graphite.inputs.metadata.name);
    assert.equal(env.STATSD_PORT, "8125");
    assert.ok(graphite.inputs.spec.ports.some((p: any) => p.port === 8125 && p.protocol === "UDP"));
  });

  it("denies all ingress in the namespace but what each workload's policy admits: its published ports, from anyone", () => {
    const policies = Object.fromEntries(
      ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((np) => [np.inputs.metadata.name, np.inputs.spec]),
    );
    const only = (name: string, ports: Array<[number, string]>) => ({
      podSelector: { matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "statsd-stack" } },
      policyTypes: ["Ingress"],
      ingress: [{ ports: ports.map(([port, protocol]) => ({ port, protocol })) }],
    });
    assert.deepEqual(policies, {
      "default-deny-ingress": { podSelector: {}, policyTypes: ["Ingress"] },
      // carbon (2003), statsd's admin port (8126) and gunicorn (8080) admit no other pod.
      "graphite-ingress": only("graphite", [[8125, "UDP"], [80, "TCP"]]),
      "sample-api-ingress": only("sample-api", [[8000, "TCP"]]),
      "grafana-ingress": only("grafana", [[3000, "TCP"]]),
    });
  });

  it("keeps carbon and statsd's admin port inside the cluster, and lets Kubernetes assign the NodePorts of the rest", () => {
    const nodePorts = one(run, SERVICE, "pipeline-graphite-nodeport").inputs.spec;
    assert.equal(nodePorts.type, "NodePort");
    assert.deepEqual(nodePorts.ports.map((p: any) => [p.name, p.port, p.protocol, p.nodePort]), [
      ["statsd", 8125, "UDP", undefined],
      ["web", 80, "TCP", undefined],
    ]);
    assert.deepEqual(one(run, SERVICE, "pipeline-graphite-service").inputs.spec.type, "ClusterIP");
  });

  it("exports each URL on the node address at the NodePort Kubernetes assigned to that Service's port", () => {
    const ports = [
      assignedNodePort(run, "pipeline-api-nodeport", "http"),
      assignedNodePort(run, "pipeline-grafana-nodeport", "http"),
      assignedNodePort(run, "pipeline-graphite-nodeport", "web"),
      assignedNodePort(run, "pipeline-graphite-nodeport", "statsd"),
    ];
    assert.equal(new Set(ports).size, 4, `the API server assigns distinct NodePorts: ${ports.join(", ")}`);
    assert.deepEqual(
      [run.outputs.apiUrl, run.outputs.grafanaUrl, run.outputs.graphiteUrl, run.outputs.statsdEndpoint],
      [`http://10.1.2.3:${ports[0]}`, `http://10.1.2.3:${ports[1]}`, `http://10.1.2.3:${ports[2]}`, `10.1.2.3:${ports[3]}`],
    );
  });

  it("mounts each graphite setting file by itself, keeping the image's other files in place", () => {
    const mounts = containerOf(workloadOf(run, "pipeline-graphite")).volumeMounts as any[];
    assert.deepEqual(
      mounts.filter((m) => m.name === "config").map((m) => [m.mountPath, m.subPath]),
      [
        ["/opt/statsd/config/udp.js", "opt_statsd_config_udp.js"],
        ["/opt/statsd/backends/own-metrics-expiry.js", "opt_statsd_backends_own-metrics-expiry.js"],
        ["/opt/statsd/servers/udp-receive-buffer.js", "opt_statsd_servers_udp-receive-buffer.js"],
        ["/opt/statsd/backends/udp-receive-buffer-drops.js", "opt_statsd_backends_udp-receive-buffer-drops.js"],
        ["/opt/graphite/conf/carbon.conf", "opt_graphite_conf_carbon.conf"],
        ["/opt/graphite/conf/storage-schemas.conf", "opt_graphite_conf_storage-schemas.conf"],
        ["/opt/graphite/conf/storage-aggregation.conf", "opt_graphite_conf_storage-aggregation.conf"],
        ["/etc/nginx/sites-enabled/graphite-statsd.conf", "etc_nginx_sites-enabled_graphite-statsd.conf"],
        ["/opt/graphite/bin/django_admin_init.sh", "opt_graphite_bin_django_admin_init.sh"],
        ["/etc/service/whisper-prune/run", "etc_service_whisper-prune_run"],
      ],
    );
  });

  it("mounts the admin init script and the whisper prune service's run script executable (0755), the other files 0644", () => {
    const volume = (workloadOf(run, "pipeline-graphite").inputs.spec.template.spec.volumes as any[]).find((v) => v.name === "config");
    assert.deepEqual(
      volume.configMap.items.map((i: any) => [i.key, i.mode.toString(8)]),
      [
        ["opt_statsd_config_udp.js", "644"],
        ["opt_statsd_backends_own-metrics-expiry.js", "644"],
        ["opt_statsd_servers_udp-receive-buffer.js", "644"],
        ["opt_statsd_backends_udp-receive-buffer-drops.js", "644"],
        ["opt_graphite_conf_carbon.conf", "644"],
        ["opt_graphite_conf_storage-schemas.conf", "644"],
        ["opt_graphite_conf_storage-aggregation.conf", "644"],
        ["etc_nginx_sites-enabled_graphite-statsd.conf", "644"],
        ["opt_graphite_bin_django_admin_init.sh", "755"],
        ["etc_service_whisper-prune_run", "755"],
      ],
    );
  });

  it("keeps graphite-web's generated admin password and secret key in the graphite Secret its env references, and exports the password as a secret", () => {
    const password = one(run, "random:index/randomPassword:RandomPassword", "graphite-admin-password").state.result as string;
    const key = one(run, "random:index/randomPassword:RandomPassword", "graphite-secret-key").state.result as string;
    const secret = one(run, "kubernetes:core/v1:Secret", "graphite");
    assert.deepEqual(secret.inputs.stringData, { GRAPHITE_ADMIN_PASSWORD: password, GRAPHITE_SECRET_KEY: key });
    const env = containerOf(workloadOf(run, "pipeline-graphite")).env as any[];
    assert.deepEqual(
      env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]),
      [
        ["GRAPHITE_ADMIN_PASSWORD", secret.state.metadata.name, "GRAPHITE_ADMIN_PASSWORD"],
        ["GRAPHITE_SECRET_KEY", secret.state.metadata.name, "GRAPHITE_SECRET_KEY"],
      ],
    );
    assert.deepEqual([run.outputs.graphiteAdminUser, run.outputs.graphiteAdminPassword], ["root", password]);
    assert.ok(run.secretOutputs.includes("graphiteAdminPassword"));
    assert.deepEqual([plainOccurrences(run, password), plainOccurrences(run, key)], [[], []]);
  });

  it("gives graphite-statsd 90 s to stop: runit waits up to 60 s (SVWAIT) for carbon to write its cache, then the rest", () => {
    const graphite = workloadOf(run, "pipeline-graphite");
    assert.equal(graphite.inputs.spec.template.spec.terminationGracePeriodSeconds, 90);
    assert.equal(containerOf(graphite).lifecycle, undefined);
    assert.equal((containerOf(graphite).env as any[]).find((e) => e.name === "SVWAIT").value, "60");
  });

  it("points Grafana's only datasource at graphite-web through the graphite Service", () => {
    const data = one(run, "kubernetes:core/v1:ConfigMap", "grafana").inputs.data;
    const provisioning = parse(data["etc_grafana_provisioning_datasources_statsd-stack.yaml"]);
    assert.deepEqual(provisioning.datasources.map((d: any) => [d.type, d.url]), [["graphite", "http://graphite:80"]]);
  });
});

describe("kubernetes platform, graphite topology with a webhook for alerts", () => {
  const url = `https://hooks.example.com/grafana?token=${"s3cr3t".repeat(4)}`;
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("graphite", { topology: "graphite", platform: "kubernetes", alertWebhookUrl: url }, ["alertWebhookUrl"]);
  });

  it("mounts the alert rules and the notifications from Grafana's ConfigMap into its alerting provisioning folder", () => {
    const data = one(run, CONFIGMAP, "grafana").inputs.data;
    assert.deepEqual(
      Object.keys(data).filter((k) => k.includes("alerting")).sort(),
      ["etc_grafana_provisioning_alerting_statsd-stack-notifications.yaml", "etc_grafana_provisioning_alerting_statsd-stack-rules.yaml"],
    );
    const mounts = (containerOf(workloadOf(run, "grafana")).volumeMounts as any[]).filter((m) => m.mountPath.includes("/alerting/"));
    assert.deepEqual(mounts.map((m) => [m.mountPath, m.subPath]), [
      ["/etc/grafana/provisioning/alerting/statsd-stack-rules.yaml", "etc_grafana_provisioning_alerting_statsd-stack-rules.yaml"],
      ["/etc/grafana/provisioning/alerting/statsd-stack-notifications.yaml", "etc_grafana_provisioning_alerting_statsd-stack-notifications.yaml"],
    ]);
    assert.deepEqual(parse(data["etc_grafana_provisioning_alerting_statsd-stack-rules.yaml"]).groups[0].rules.map((r: any) => r.title), [
      "AppHighServerErrorRatio",
      "AppHighLatencyP99",
      "AppNotReporting",
      "StatsdSeriesFlood",
    ]);
  });

  it("keeps the URL in Grafana's Secret, which its environment references, and in no ConfigMap", () => {
    const secret = one(run, "kubernetes:core/v1:Secret", "grafana");
    assert.deepEqual(Object.keys(secret.inputs.stringData), ["GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_SECRET_KEY", "STATSD_STACK_ALERT_WEBHOOK_URL"]);
    assert.equal(secret.inputs.stringData.STATSD_STACK_ALERT_WEBHOOK_URL, url);
    const ref = (containerOf(workloadOf(run, "grafana")).env as any[]).find((e) => e.name === "STATSD_STACK_ALERT_WEBHOOK_URL");
    assert.deepEqual(ref.valueFrom.secretKeyRef, { name: secret.state.metadata.name, key: "STATSD_STACK_ALERT_WEBHOOK_URL" });
    for (const cm of ofType(run, CONFIGMAP)) assert.ok(!JSON.stringify(cm.inputs.data).includes("s3cr3t"), cm.name);
  });

  it("shows the URL in no plain input of any resource", () => {
    assert.deepEqual(plainOccurrences(run, url), []);
  });
});

describe("kubernetes platform, exporter topology with a webhook for alerts", () => {
  const url = `https://hooks.example.com/alerts?token=${"t0k3n".repeat(4)}`;
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", { topology: "exporter", platform: "kubernetes", alertWebhookUrl: url }, ["alertWebhookUrl"]);
  });

  it("puts the URL in a Secret, mounted read-only at the url_file path alertmanager.yml names, and in no ConfigMap", () => {
    const secret = one(run, "kubernetes:core/v1:Secret", "alertmanager-secret-files");
    assert.deepEqual(secret.inputs.stringData, { "etc_alertmanager_secrets_webhook-url": url });
    const pod = workloadOf(run, "alertmanager").inputs.spec.template.spec;
    const volume = (pod.volumes as any[]).find((v) => v.secret);
    assert.deepEqual(volume.secret, { secretName: secret.state.metadata.name, defaultMode: 0o440 });
    const mount = (containerOf(workloadOf(run, "alertmanager")).volumeMounts as any[]).find((m) => m.name === volume.name);
    assert.deepEqual(mount, { name: volume.name, mountPath: "/etc/alertmanager/secrets/webhook-url", subPath: "etc_alertmanager_secrets_webhook-url", readOnly: true });
    const config = parse(one(run, CONFIGMAP, "alertmanager").inputs.data["etc_alertmanager_alertmanager.yml"]);
    assert.equal(config.receivers[0].webhook_configs[0].url_file, "/etc/alertmanager/secrets/webhook-url");
    for (const cm of ofType(run, CONFIGMAP)) assert.ok(!JSON.stringify(cm.inputs.data).includes("t0k3n"), cm.name);
  });

  it("shows the URL in no plain input of any resource", () => {
    assert.deepEqual(plainOccurrences(run, url), []);
  });
});

describe("kubernetes platform, storage", () => {
  const CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";
  const runs: Record<string, ProgramRun> = {};
  before(async () => {
    runs.exporter = await runProgram("exporter", { topology: "exporter", platform: "kubernetes" });
    runs.graphite = await runProgram("graphite", {
      topology: "graphite",
      platform: "kubernetes",
      storageClass: "fast-ssd",
      graphiteStorageSize: "50Gi",
      dataOnDestroy: "retain",
    });
    runs.ephemeral = await runProgram("exporter", { topology: "exporter", platform: "kubernetes", storage: "ephemeral" });
  });
  const claimsOf = (run: ProgramRun) =>
    ofType(run, CLAIM).map((c) => ({
      name: c.inputs.metadata.name,
      spec: c.inputs.spec,
      deleteBeforeReplace: c.options.deleteBeforeReplace,
      retainOnDelete: c.options.retainOnDelete,
    }));
  const dataVolumes = (run: ProgramRun, workload: string) =>
    (workloadOf(run, workload).inputs.spec.template.spec.volumes as any[]).filter((v) => v.name.startsWith("data-"));

  it("claims ReadWriteOnce volumes of the default sizes in the cluster's default class for Prometheus and Alertmanager, by fixed names", () => {
    assert.deepEqual(claimsOf(runs.exporter!), [
      { name: "alertmanager-data", spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }, deleteBeforeReplace: true, retainOnDelete: false },
      { name: "prometheus-data", spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } }, deleteBeforeReplace: true, retainOnDelete: false },
    ]);
  });

  it("runs each workload with a claim as a StatefulSet of one replica mounting it, so no second pod ever opens the volume; the rest as Deployments", () => {
    assert.deepEqual(
      workloads(runs.exporter!).map((w) => `${w.type.split(":").at(-1)} ${w.inputs.metadata.labels["app.kubernetes.io/name"]}`).sort(),
      ["Deployment grafana", "Deployment sample-api", "Deployment statsd-exporter", "StatefulSet alertmanager", "StatefulSet prometheus"],
    );
    for (const workload of ["prometheus", "alertmanager"]) {
      const set = workloadOf(runs.exporter!, workload);
      assert.deepEqual(dataVolumes(runs.exporter!, workload), [{ name: "data-0", persistentVolumeClaim: { claimName: `${workload}-data` } }], workload);
      assert.deepEqual(
        [set.inputs.spec.replicas, set.inputs.spec.serviceName, set.inputs.spec.podManagementPolicy, set.inputs.spec.updateStrategy, set.inputs.spec.volumeClaimTemplates],
        [1, workload, "OrderedReady", { type: "RollingUpdate" }, undefined],
        workload,
      );
    }
    assert.deepEqual(workloadOf(runs.exporter!, "pipeline-exporter-deployment").inputs.spec.strategy, ROLLING_UPDATE);
  });

  it("deletes the data with the stack by default: neither the claims nor the namespace are kept, and the provider creates only what is new", () => {
    assert.deepEqual(ofType(runs.exporter!, "kubernetes:core/v1:Namespace").map((n) => n.options.retainOnDelete), [false, undefined]);
    assert.equal(one(runs.exporter!, "pulumi:providers:kubernetes", "platform-provider").inputs.upsertExistingObjects, undefined);
  });

  it("storageClass and graphiteStorageSize set graphite-statsd's claim", () => {
    assert.deepEqual(claimsOf(runs.graphite!).map((c) => [c.name, c.spec.storageClassName, c.spec.resources.requests.storage]), [["graphite-data", "fast-ssd", "50Gi"]]);
    assert.equal(workloadOf(runs.graphite!, "graphite").type, STATEFULSET);
  });

  it("dataOnDestroy retain keeps the claims and their namespace on destroy, and lets the next up take them up again", () => {
    assert.deepEqual(claimsOf(runs.graphite!).map((c) => c.retainOnDelete), [true]);
    assert.equal(one(runs.graphite!, "kubernetes:core/v1:Namespace", "platform-namespace").options.retainOnDelete, true);
    // Provider inputs reach the engine as strings.
    assert.equal(one(runs.graphite!, "pulumi:providers:kubernetes", "platform-provider").inputs.upsertExistingObjects, "true");
  });

  it("storage ephemeral: no claim, an emptyDir for each data path, and the backends are Deployments rolling like the rest", () => {
    assert.deepEqual(ofType(runs.ephemeral!, CLAIM), []);
    assert.deepEqual(ofType(runs.ephemeral!, STATEFULSET), []);
    for (const workload of ["prometheus", "alertmanager"]) {
      assert.deepEqual(dataVolumes(runs.ephemeral!, workload), [{ name: "data-0", emptyDir: {} }], workload);
      assert.deepEqual(workloadOf(runs.ephemeral!, workload).inputs.spec.strategy, ROLLING_UPDATE, workload);
    }
  });
});
