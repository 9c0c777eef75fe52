/**
 * The Pulumi program on the Docker platform, under Pulumi's mocks (no Docker engine or Pulumi engine here): the
 * resources it would create, how they are wired, and what they expose.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { envOf, ofType, one, uploadOf } from "../support/graph";
import { runProgram, type ProgramRun } from "../support/program";

const CONTAINER = "docker:index/container:Container";

describe("docker platform, exporter topology", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", { topology: "exporter", grafanaAdminPassword: "a-user-chosen-secret" }, ["grafanaAdminPassword"]);
  });

  it("registers four containers and no generated password when one is configured", () => {
    assert.equal(ofType(run, CONTAINER).length, 4);
    assert.equal(ofType(run, "random:index/randomPassword:RandomPassword").length, 0);
    assert.equal(ofType(run, "statsd-stack:index:ExporterTopology").length, 1);
  });

  it("wires the app to the exporter's alias and StatsD port, in the DogStatsD style", () => {
    const exporter = one(run, CONTAINER, "exporter-exporter");
    const env = envOf(one(run, CONTAINER, "api"));
    assert.equal(env.STATSD_HOST, exporter.inputs.networksAdvanced[0].aliases[0]);
    assert.equal(env.STATSD_PORT, "9125");
    assert.equal(env.METRICS_STYLE, "dogstatsd");
    assert.ok(exporter.inputs.ports.some((p: any) => p.internal === 9125 && p.protocol === "udp"));
  });

  it("scrapes the exporter's alias and web port from Prometheus", () => {
    const prometheus = one(run, CONTAINER, "prometheus");
    const config = parse(uploadOf(prometheus, "/etc/prometheus/prometheus.yml"));
    const exporter = one(run, CONTAINER, "exporter-exporter");
    assert.deepEqual(config.scrape_configs[0].static_configs[0].targets, [`${exporter.inputs.networksAdvanced[0].aliases[0]}:9102`]);
  });

  it("points Grafana's only datasource at Prometheus inside the network", () => {
    const provisioning = parse(uploadOf(one(run, CONTAINER, "grafana"), "/etc/grafana/provisioning/datasources/statsd-stack.yaml"));
    const prometheus = one(run, CONTAINER, "prometheus");
    assert.deepEqual(
      provisioning.datasources.map((d: any) => [d.type, d.url]),
      [["prometheus", `http://${prometheus.inputs.networksAdvanced[0].aliases[0]}:9090`]],
    );
  });

  it("publishes every port on 127.0.0.1, StatsD as UDP, on the exporter stack's own host ports", () => {
    const published = ofType(run, CONTAINER).flatMap((c) => c.inputs.ports as any[]);
    assert.deepEqual(
      published.map((p) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`).sort(),
      ["127.0.0.1:3001->3000/tcp", "127.0.0.1:8100->8000/tcp", "127.0.0.1:9090->9090/tcp", "127.0.0.1:9102->9102/tcp", "127.0.0.1:9125->9125/udp"],
    );
  });

  it("uses the configured admin password, as a secret output and in no plain input", () => {
    assert.equal(run.outputs.grafanaAdminPassword, "a-user-chosen-secret");
    assert.deepEqual(run.secretOutputs, ["grafanaAdminPassword"]);
    const plain = run.resources.filter((r) => !run.secretInputs.has(`${r.type}::${r.name}`));
    for (const r of plain) assert.ok(!JSON.stringify(r.inputs).includes("a-user-chosen-secret"), `${r.type} ${r.name}`);
  });

  it("exports the URLs of the API, Grafana, Prometheus and the exporter's metrics, and the StatsD endpoint", () => {
    assert.deepEqual(
      [run.outputs.apiUrl, run.outputs.grafanaUrl, run.outputs.prometheusUrl, run.outputs.exporterMetricsUrl, run.outputs.statsdEndpoint],
      ["http://127.0.0.1:8100", "http://127.0.0.1:3001", "http://127.0.0.1:9090", "http://127.0.0.1:9102/metrics", "127.0.0.1:9125"],
    );
  });
});
