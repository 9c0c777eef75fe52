/**
 * The Pulumi program on the Docker platform, under Pulumi's mocks (no Docker engine or Pulumi engine here): the
 * resources it would create, how they are wired, and what they expose.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { envOf, ofType, one, parentChain, typeCounts, uploadOf } from "../support/graph";
import { runProgram, type ProgramRun } from "../support/program";

const CONTAINER = "docker:index/container:Container";

describe("docker platform, graphite topology", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("graphite", { topology: "graphite" });
  });

  it("registers one network, three containers, the app image build and its owner, two pulled images, one volume and a generated password", () => {
    assert.deepEqual(typeCounts(run), {
      "docker:index/container:Container": 3,
      "docker:index/image:Image": 1,
      "docker:index/network:Network": 1,
      "docker:index/remoteImage:RemoteImage": 3,
      "docker:index/volume:Volume": 1,
      "random:index/randomPassword:RandomPassword": 1,
      "statsd-stack:index:Grafana": 1,
      "statsd-stack:index:GraphiteStatsd": 1,
      "statsd-stack:index:GraphiteTopology": 1,
      "statsd-stack:index:SampleApi": 1,
    });
  });

  it("parents every container to its component and every component to the topology", () => {
    for (const container of ofType(run, CONTAINER)) {
      const chain = parentChain(run, container);
      assert.equal(chain.length, 2, `${container.name}: ${chain.join(" <- ")}`);
      assert.equal(chain[1], "statsd-stack:index:GraphiteTopology::graphite");
    }
    assert.deepEqual(parentChain(run, one(run, CONTAINER, "api")), [
      "statsd-stack:index:SampleApi::graphite-api",
      "statsd-stack:index:GraphiteTopology::graphite",
    ]);
  });

  it("wires the app's STATSD_HOST and STATSD_PORT to the graphite container's alias and StatsD port", () => {
    const graphite = one(run, CONTAINER, "graphite-graphite");
    const env = envOf(one(run, CONTAINER, "api"));
    assert.equal(env.STATSD_HOST, graphite.inputs.networksAdvanced[0].aliases[0]);
    assert.equal(env.STATSD_HOST, "graphite");
    assert.equal(env.STATSD_PORT, "8125");
    assert.equal(env.METRICS_STYLE, "graphite");
    assert.ok(graphite.inputs.ports.some((p: any) => p.internal === 8125 && p.protocol === "udp"));
  });

  it("points Grafana's only datasource at graphite-web inside the network", () => {
    const grafana = one(run, CONTAINER, "grafana");
    const provisioning = parse(uploadOf(grafana, "/etc/grafana/provisioning/datasources/statsd-stack.yaml"));
    assert.deepEqual(
      provisioning.datasources.map((d: any) => [d.type, d.uid, d.url, d.isDefault]),
      [["graphite", "statsd-stack-graphite", "http://graphite:8080", true]],
    );
  });

  it("publishes every port on 127.0.0.1, StatsD as UDP", () => {
    const published = ofType(run, CONTAINER).flatMap((c) => c.inputs.ports as any[]);
    assert.deepEqual(
      published.map((p) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`).sort(),
      ["127.0.0.1:3000->3000/tcp", "127.0.0.1:8000->8000/tcp", "127.0.0.1:8080->8080/tcp", "127.0.0.1:8125->8125/udp"],
    );
  });

  it("runs containers by image ID, deleted before a replacement reuses their fixed names and ports", () => {
    for (const container of ofType(run, CONTAINER)) {
      assert.match(container.inputs.image, /^sha256:[0-9a-f]{64}$/, container.name);
      assert.equal(container.options.deleteBeforeReplace, true, container.name);
      assert.equal(container.inputs.restart, "unless-stopped");
    }
  });

  it("builds the app image under the stack's own name and removes it when the stack goes", () => {
    const build = one(run, "docker:index/image:Image", "api-build");
    assert.match(build.inputs.imageName, /^statsd-stack-graphite\/sample-api:[0-9a-f]{16}$/);
    const owner = one(run, "docker:index/remoteImage:RemoteImage", "api-image");
    assert.deepEqual([owner.inputs.name, owner.inputs.keepLocally], [build.inputs.imageName, false]);
    const pulled = ofType(run, "docker:index/remoteImage:RemoteImage").filter((r) => r !== owner);
    assert.deepEqual(pulled.map((r) => [r.inputs.name, r.inputs.keepLocally]).sort(), [
      ["grafana/grafana:13.2.2", true],
      ["graphiteapp/graphite-statsd:1.1.10-5", true],
    ]);
  });

  it("limits each container's memory without swap, and its CPUs in the form Docker reads back", () => {
    const limits = Object.fromEntries(ofType(run, CONTAINER).map((c) => [c.inputs.name, [c.inputs.memory, c.inputs.memorySwap, c.inputs.cpus]]));
    assert.deepEqual(limits, {
      "statsd-stack-graphite-graphite-0": [768, 768, "1.0"],
      "statsd-stack-graphite-sample-api-0": [256, 256, "1.0"],
      "statsd-stack-graphite-grafana-0": [512, 512, "1.0"],
    });
  });

  it("gives Grafana a scratch data directory that starts empty, and no volume", () => {
    const grafana = one(run, CONTAINER, "grafana");
    assert.deepEqual(grafana.inputs.tmpfs, { "/var/lib/grafana": "rw,nosuid,nodev,size=64m", "/tmp": "rw,noexec,nosuid,size=16m" });
    assert.deepEqual(grafana.inputs.volumes, []);
    assert.deepEqual(ofType(run, "docker:index/volume:Volume").map((v) => v.inputs.name), ["statsd-stack-graphite-graphite-data-0"]);
  });

  it("delivers the generated statsd and carbon settings into the graphite container", () => {
    const graphite = one(run, CONTAINER, "graphite-graphite");
    assert.deepEqual(
      (graphite.inputs.uploads as any[]).map((u) => u.file),
      ["/opt/statsd/config/udp.js", "/opt/graphite/conf/carbon.conf", "/opt/graphite/conf/storage-schemas.conf", "/opt/graphite/conf/storage-aggregation.conf"],
    );
    assert.match(uploadOf(graphite, "/opt/graphite/conf/carbon.conf"), /^MAX_CREATES_PER_MINUTE = 1000$/m);
    assert.match(uploadOf(graphite, "/opt/statsd/config/udp.js"), /"flushInterval": 10000/);
    assert.match(uploadOf(graphite, "/opt/graphite/conf/storage-schemas.conf"), /retentions = 10s:6h,1m:7d,10m:1y/);
  });

  it("exports the URLs of the API, Grafana and graphite-web, the StatsD endpoint, and the admin password as a secret", () => {
    assert.deepEqual(run.outputs, {
      topology: "graphite",
      platform: "docker",
      appName: "sample-api",
      metricPrefix: "sample_api",
      apiUrl: "http://127.0.0.1:8000",
      grafanaUrl: "http://127.0.0.1:3000",
      graphiteUrl: "http://127.0.0.1:8080",
      statsdEndpoint: "127.0.0.1:8125",
      grafanaAdminUser: "admin",
      grafanaAdminPassword: "generated-password-for-tests",
    });
    assert.deepEqual(run.secretOutputs, ["grafanaAdminPassword"]);
  });

  it("keeps the admin password out of every plain input", () => {
    const plain = run.resources.filter((r) => !run.secretInputs.has(`${r.type}::${r.name}`));
    for (const r of plain) assert.ok(!JSON.stringify(r.inputs).includes("generated-password-for-tests"), `${r.type} ${r.name}`);
    assert.ok(run.secretInputs.has(`${CONTAINER}::graphite-grafana-container-0`));
  });

  it("enables anonymous Viewer access and never the default admin/admin", () => {
    const env = envOf(one(run, CONTAINER, "grafana"));
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, "true");
    assert.equal(env.GF_AUTH_ANONYMOUS_ORG_ROLE, "Viewer");
    assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, "generated-password-for-tests");
  });
});
