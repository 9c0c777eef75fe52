/** Stack configuration: defaults, and a clear message for every bad value, all reported at once. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readStackConfig, StackConfigError, type ConfigSource } from "../components/config";

const source = (values: Record<string, string>): ConfigSource => ({
  get: (key) => values[key],
  getSecret: () => undefined,
});

function problems(values: Record<string, string>): readonly string[] {
  try {
    readStackConfig(source(values), "demo");
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
        hostPorts: { api: 8000, grafana: 3000, graphiteWeb: 8080, prometheus: 9090, exporterWeb: 9102, statsd: 8125 },
        images: {
          graphiteImage: "graphiteapp/graphite-statsd:1.1.10-5",
          exporterImage: "prom/statsd-exporter:v0.30.0",
          prometheusImage: "prom/prometheus:v3.13.5",
          grafanaImage: "grafana/grafana:13.2.2",
        },
        appImage: undefined,
        appReplicas: 1,
        metricPrefix: "sample_api",
        appName: "sample-api",
        grafanaAdminPassword: undefined,
        kubernetes: { context: "kind-statsd-stack", namespace: "statsd-stack-demo", kindClusterName: "statsd-stack" },
      },
    );
  });

  const cases: Array<[string, Record<string, string>, string]> = [
    ["an unknown topology", { topology: "influx" }, 'statsd-stack:topology = "influx" is not valid: expected one of graphite, exporter'],
    ["a missing topology", {}, "statsd-stack:topology is not set: expected one of graphite, exporter"],
    ["an unknown platform", { topology: "graphite", platform: "nomad" }, 'statsd-stack:platform = "nomad" is not valid: expected one of docker, kubernetes'],
    ["a port out of range", { topology: "graphite", apiPort: "70000" }, 'statsd-stack:apiPort = "70000" is not valid: expected an integer from 1 to 65535'],
    ["replicas below 1", { topology: "graphite", appReplicas: "0" }, 'statsd-stack:appReplicas = "0" is not valid: expected an integer from 1 to 20'],
    ["a bind address that is not IPv4", { topology: "graphite", bindAddress: "localhost" }, 'statsd-stack:bindAddress = "localhost" is not valid: expected an IPv4 address such as 127.0.0.1 (0.0.0.0 publishes on every interface)'],
    ["a malformed image", { topology: "graphite", grafanaImage: "Grafana Latest" }, 'statsd-stack:grafanaImage = "Grafana Latest" is not valid: expected an image reference such as prom/prometheus:v3.13.5'],
    ["a metric prefix with a dot", { topology: "graphite", metricPrefix: "a.b" }, 'statsd-stack:metricPrefix = "a.b" is not valid: expected letters, digits and _ (not starting with a digit), e.g. sample_api'],
    ["a namespace that is not a DNS label", { topology: "graphite", namespace: "My_NS" }, 'statsd-stack:namespace = "My_NS" is not valid: expected a Kubernetes namespace name: up to 63 lowercase letters, digits and -'],
    ["two services on one host port", { topology: "graphite", grafanaPort: "8000" }, "statsd-stack:grafanaPort = 3000 clashes with statsd-stack:apiPort: each host port can be published once"],
  ];
  for (const [what, values, message] of cases) {
    it(`${what} is rejected with: ${message}`, () => {
      const found = problems(values);
      assert.deepEqual(found, [message.replace("grafanaPort = 3000", "grafanaPort = 8000")]);
    });
  }

  it("reports every problem at once", () => {
    assert.deepEqual(problems({ topology: "x", platform: "y", appReplicas: "-1" }), [
      'statsd-stack:topology = "x" is not valid: expected one of graphite, exporter',
      'statsd-stack:platform = "y" is not valid: expected one of docker, kubernetes',
      'statsd-stack:appReplicas = "-1" is not valid: expected an integer from 1 to 20',
    ]);
  });
});
