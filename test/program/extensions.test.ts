/**
 * A team's own mappings, carbon sections and rule file (config exporterMappings, graphiteSchemas,
 * graphiteAggregation, prometheusRulesFile) under Pulumi's mocks: what lands in which file or ConfigMap, and that
 * each changes only the workload it belongs to (Docker replaces a container whose uploads change; Kubernetes
 * replaces an auto-named ConfigMap whose data changes, and so rolls the one Deployment that mounts it).
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { MAPPING_PATH } from "../../pipeline/exporter";
import { PROMETHEUS_CONFIG_PATH, PROMETHEUS_OWN_RULES_PATH } from "../../pipeline/prometheus";
import { ofType, one, uploadOf } from "../support/graph";
import { loadProgramExpectingFailure, runProgram, type ProgramRun } from "../support/program";
import { TEAM_MAPPINGS, TEAM_RULES_YAML, teamOverrides } from "../support/team-extensions";

const CONTAINER = "docker:index/container:Container";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const SCHEMAS = "/opt/graphite/conf/storage-schemas.conf";
const AGGREGATION = "/opt/graphite/conf/storage-aggregation.conf";

const rulesFile = path.join(mkdtempSync(path.join(os.tmpdir(), "statsd-stack-team-")), "checkout.yml");
writeFileSync(rulesFile, TEAM_RULES_YAML);

/**
 * The resources whose inputs differ between two runs of the same stack, as `type::name`. Generated passwords and
 * keys differ per run by design (the mocks draw them): they are read from each run and left out of the comparison.
 */
function changedResources(a: ProgramRun, b: ProgramRun): string[] {
  const drawn = [a, b].flatMap((run) => ofType(run, PASSWORD).map((r) => String(r.state.result)));
  const normal = (inputs: unknown) => drawn.reduce((text, secret) => text.split(secret).join("<drawn>"), JSON.stringify(inputs));
  const before = new Map(a.resources.map((r) => [`${r.type}::${r.name}`, normal(r.inputs)]));
  const after = new Map(b.resources.map((r) => [`${r.type}::${r.name}`, normal(r.inputs)]));
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

describe("a team's extensions on Docker", () => {
  let exporter: ProgramRun;
  let graphite: ProgramRun;
  before(async () => {
    exporter = await runProgram("exporter", { topology: "exporter", ...teamOverrides("exporter", rulesFile) });
    graphite = await runProgram("graphite", { topology: "graphite", ...teamOverrides("graphite", rulesFile) });
  });

  it("statsd_exporter's mapping holds the team's mapping after the catalog's three", () => {
    const mapping = parse(uploadOf(one(exporter, CONTAINER, "pipeline-exporter"), MAPPING_PATH));
    assert.deepEqual(mapping.mappings.map((m: { match: string }) => m.match), ["sample_api.http_request_duration_ms", "sample_api.http_requests", "sample_api.app_info", "checkout.*.orders"]);
    assert.deepEqual(mapping.mappings[3], TEAM_MAPPINGS[0]);
  });

  it("Prometheus gets the team's rule file as given, beside the generated one, and prometheus.yml names both", () => {
    const prometheus = one(exporter, CONTAINER, "prometheus");
    assert.deepEqual(parse(uploadOf(prometheus, PROMETHEUS_CONFIG_PATH)).rule_files, ["rules.yml", "own-rules.yml"]);
    assert.equal(uploadOf(prometheus, PROMETHEUS_OWN_RULES_PATH), `# From ${rulesFile} (config prometheusRulesFile), checked by the program and delivered as it is.\n${TEAM_RULES_YAML}`);
  });

  it("carbon's schemas and aggregation hold the team's sections before the catch-alls", () => {
    const container = one(graphite, CONTAINER, "pipeline-graphite");
    const sections = (file: string) => [...uploadOf(container, file).matchAll(/^\[(.+)\]$/gm)].map((m) => m[1]);
    assert.deepEqual(sections(SCHEMAS), ["carbon", "checkout", "statsd", "default"]);
    assert.deepEqual(sections(AGGREGATION), ["carbon_counts", "checkout_gauges", "timer_min", "timer_max", "timer_sum", "counts", "default_average"]);
  });

  it("each extension changes only its own container: mappings statsd_exporter, rules Prometheus, carbon sections graphite-statsd", async () => {
    const plainExporter = await runProgram("exporter", { topology: "exporter" });
    const mappingsOnly = await runProgram("exporter", { topology: "exporter", exporterMappings: teamOverrides("exporter", rulesFile).exporterMappings! });
    const rulesOnly = await runProgram("exporter", { topology: "exporter", prometheusRulesFile: rulesFile });
    const plainGraphite = await runProgram("graphite", { topology: "graphite" });
    assert.deepEqual(changedResources(plainExporter, mappingsOnly), [`${CONTAINER}::pipeline-exporter-container-0`]);
    assert.deepEqual(changedResources(plainExporter, rulesOnly), [`${CONTAINER}::pipeline-prometheus-container-0`]);
    assert.deepEqual(changedResources(plainGraphite, graphite), [`${CONTAINER}::pipeline-graphite-container-0`]);
  });
});

describe("a team's extensions on Kubernetes", () => {
  const k8s = { platform: "kubernetes" };

  it("each lands in its workload's auto-named ConfigMap, and changes nothing else", async () => {
    const plainExporter = await runProgram("exporter", { topology: "exporter", ...k8s });
    const mappingsOnly = await runProgram("exporter", { topology: "exporter", ...k8s, exporterMappings: teamOverrides("exporter", rulesFile).exporterMappings! });
    const rulesOnly = await runProgram("exporter", { topology: "exporter", ...k8s, prometheusRulesFile: rulesFile });
    assert.deepEqual(changedResources(plainExporter, mappingsOnly), [`${CONFIGMAP}::pipeline-exporter-config`]);
    // A new file is a new mount too: Prometheus's Deployment changes with its ConfigMap, nothing else does.
    assert.deepEqual(changedResources(plainExporter, rulesOnly), ["kubernetes:apps/v1:StatefulSet::pipeline-prometheus-statefulset", `${CONFIGMAP}::pipeline-prometheus-config`]);
    const mapping = parse(one(mappingsOnly, CONFIGMAP, "pipeline-exporter").inputs.data["etc_statsd-exporter_mapping.yml"]);
    assert.deepEqual(mapping.mappings.at(-1), TEAM_MAPPINGS[0]);
    const data = one(rulesOnly, CONFIGMAP, "pipeline-prometheus").inputs.data;
    assert.deepEqual(Object.keys(data).sort(), ["etc_prometheus_own-rules.yml", "etc_prometheus_prometheus.yml", "etc_prometheus_rules.yml"]);
    assert.equal(one(rulesOnly, CONFIGMAP, "pipeline-prometheus").inputs.metadata.name, undefined);

    const plainGraphite = await runProgram("graphite", { topology: "graphite", ...k8s });
    const extended = await runProgram("graphite", { topology: "graphite", ...k8s, ...teamOverrides("graphite", rulesFile) });
    assert.deepEqual(changedResources(plainGraphite, extended), [`${CONFIGMAP}::pipeline-graphite-config`]);
  });
});

describe("a team's extensions, badly configured", () => {
  it("stop the program before any resource is registered, with the other keys' problems", async () => {
    const { error, registered } = await loadProgramExpectingFailure("exporter", {
      topology: "exporter",
      apiPort: "0",
      exporterMappings: JSON.stringify([{ match: "checkout.*.orders", name: "checkout_${2}" }]),
      prometheusRulesFile: "no/such/rules.yml",
    });
    assert.equal(
      (error as Error).message,
      "invalid stack configuration (3 problems):\n" +
        '  - statsd-stack:apiPort = "0" is not valid: expected an integer from 1 to 65535\n' +
        "  - statsd-stack:exporterMappings[0].name = \"checkout_${2}\" is not valid: expected references to the match's * parts only: checkout.*.orders has 1\n" +
        `  - statsd-stack:prometheusRulesFile = "no/such/rules.yml" is not valid: expected a YAML file of Prometheus rule groups, relative to the project folder: there is no such file (${path.join(process.cwd(), "no/such/rules.yml")})`,
    );
    assert.equal(registered, 0);
  });
});
