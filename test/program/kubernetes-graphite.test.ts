/**
 * The Pulumi program on the Kubernetes platform, graphite topology, with a pre-built app image and a custom context
 * and namespace, under Pulumi's mocks (no cluster here).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { ofType, one } from "../support/graph";
import { validate } from "../support/kubernetes";
import { runProgram, type ProgramRun } from "../support/program";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const containerOf = (d: { inputs: any }) => d.inputs.spec.template.spec.containers[0];

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
    assert.equal(objects.length, 13);
  });

  it("uses the configured context and namespace, and the given app image without building or loading it", () => {
    assert.equal(one(run, "pulumi:providers:kubernetes", "k8s").inputs.context, "prod-cluster");
    assert.equal(one(run, "kubernetes:core/v1:Namespace", "namespace").inputs.metadata.name, "metrics-demo");
    assert.equal(containerOf(one(run, DEPLOYMENT, "api")).image, "registry.example.com/sample-api:1.0.0");
    assert.equal(ofType(run, "command:local:Command").length, 0);
    assert.equal(ofType(run, "docker:index/image:Image").length, 0);
  });

  it("runs graphite-statsd as root (the image needs it) and the app and Grafana as non-root", () => {
    const nonRoot = ofType(run, DEPLOYMENT).map((d) => [d.name, d.inputs.spec.template.spec.securityContext.runAsNonRoot ?? false]);
    assert.deepEqual(nonRoot, [
      ["graphite-graphite-deployment", false],
      ["graphite-api-deployment", true],
      ["graphite-grafana-deployment", true],
    ]);
  });

  it("wires the app to the graphite Service's name and UDP StatsD port", () => {
    const graphite = one(run, SERVICE, "graphite-graphite-service");
    const env = Object.fromEntries((containerOf(one(run, DEPLOYMENT, "api")).env as any[]).map((e) => [e.name, e.value]));
    assert.equal(env.STATSD_HOST, graphite.inputs.metadata.name);
    assert.equal(env.STATSD_PORT, "8125");
    assert.ok(graphite.inputs.spec.ports.some((p: any) => p.port === 8125 && p.protocol === "UDP"));
  });

  it("keeps carbon and statsd's admin port inside the cluster, and lets Kubernetes assign the NodePorts of the rest", () => {
    const nodePorts = one(run, SERVICE, "graphite-graphite-nodeport").inputs.spec;
    assert.equal(nodePorts.type, "NodePort");
    assert.deepEqual(nodePorts.ports.map((p: any) => [p.name, p.port, p.protocol, p.nodePort]), [
      ["statsd", 8125, "UDP", undefined],
      ["web", 8080, "TCP", undefined],
    ]);
    assert.deepEqual(one(run, SERVICE, "graphite-graphite-service").inputs.spec.type, "ClusterIP");
  });

  it("exports URLs on the node address at the NodePorts Kubernetes assigned", () => {
    assert.deepEqual(
      [run.outputs.apiUrl, run.outputs.grafanaUrl, run.outputs.graphiteUrl, run.outputs.statsdEndpoint],
      ["http://10.1.2.3:32001", "http://10.1.2.3:32001", "http://10.1.2.3:32002", "10.1.2.3:32001"],
    );
  });

  it("mounts each graphite setting file by itself, keeping the image's other files in place", () => {
    const mounts = containerOf(one(run, DEPLOYMENT, "graphite-graphite")).volumeMounts as any[];
    assert.deepEqual(
      mounts.filter((m) => m.name === "config").map((m) => [m.mountPath, m.subPath]),
      [
        ["/opt/statsd/config/udp.js", "opt_statsd_config_udp.js"],
        ["/opt/graphite/conf/carbon.conf", "opt_graphite_conf_carbon.conf"],
        ["/opt/graphite/conf/storage-schemas.conf", "opt_graphite_conf_storage-schemas.conf"],
        ["/opt/graphite/conf/storage-aggregation.conf", "opt_graphite_conf_storage-aggregation.conf"],
      ],
    );
  });

  it("points Grafana's only datasource at graphite-web through the graphite Service", () => {
    const data = one(run, "kubernetes:core/v1:ConfigMap", "grafana").inputs.data;
    const provisioning = parse(data["etc_grafana_provisioning_datasources_statsd-stack.yaml"]);
    assert.deepEqual(provisioning.datasources.map((d: any) => [d.type, d.url]), [["graphite", "http://graphite:8080"]]);
  });
});
