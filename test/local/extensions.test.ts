/**
 * A team's own mappings, carbon sections and rule file (pipeline/extensions.ts), in the files the program generates,
 * on the real daemons: statsd_exporter v0.30.0 (`--check-config`, then serving a team's line under the mapped name
 * and labels, while the catalog's lines keep the catalog's mappings), promtool and Prometheus v3.13.5 (the team's
 * rule file checked, and loaded beside the generated one), and carbon-cache (Debian's graphite-carbon) creating a
 * team's new series with the team's archives and rollup, and the catalog's with the program's.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_APP_NAME } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { getJson, parseMetricsText } from "../../scripts/checks/backends";
import { sendPlaintext, startCarbonCache, whisperFile, whisperInfo, type CarbonCache } from "../../scripts/local/carbon";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup } from "../../scripts/local/processes";
import { binaries } from "../../scripts/local/stacks";
import { exporterArgs, exporterMappingYaml } from "../../pipeline/exporter";
import type { OwnMapping } from "../../pipeline/extensions";
import { parseRetentions, RETENTIONS, storageAggregationConf, storageSchemasConf } from "../../pipeline/graphite";
import { ownRulesFile, PROMETHEUS_OWN_RULES_FILE, PROMETHEUS_RULES_FILE, prometheusArgs, prometheusConfigYaml } from "../../pipeline/prometheus";
import { DEFAULT_ALERT_THRESHOLDS, prometheusRulesYaml } from "../../pipeline/rules";
import { sendStatsd } from "../support/udp";
import { TEAM_AGGREGATION, TEAM_GRAPHITE, TEAM_LINE, TEAM_MAPPINGS, TEAM_RULE_GROUP, TEAM_RULES_YAML, TEAM_SCHEMAS, teamArchives } from "../support/team-extensions";

const exporter = binaries.statsdExporter();
const promtool = binaries.promtool();
const prometheus = binaries.prometheus();
const carbon = binaries.carbonCache();
const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-extensions-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The team's mapping, a histogram of its own with buckets, and a glob over the app's prefix that must not take the catalog's lines. */
const MAPPINGS: OwnMapping[] = [
  ...(TEAM_MAPPINGS as OwnMapping[]),
  { match: "checkout.pay_time", match_metric_type: "observer", name: "checkout_pay_seconds", observer_type: "histogram", histogram_options: { buckets: [0.1, 1, 10] } },
  { match: "sample_api.*", name: "sample_api_other", labels: { metric: "$1" } },
];

describe("a team's mappings on the real statsd_exporter", { skip: exporter.skip }, () => {
  const group = new ProcessGroup();
  let metricsUrl = "";
  let udp = 0;
  after(() => group.stopAll());

  it("statsd_exporter --check-config accepts the mapping with the team's mappings after the catalog's", () => {
    const file = path.join(dir, "mapping-check.yml");
    writeFileSync(file, exporterMappingYaml("sample_api", "24h", MAPPINGS));
    const result = spawnSync(exporter.path, [`--statsd.mapping-config=${file}`, "--check-config"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  before(async () => {
    if (exporter.skip) return;
    const web = await freeTcpPort();
    udp = await freeTcpUdpPort();
    const mappingPath = path.join(dir, "mapping.yml");
    writeFileSync(mappingPath, exporterMappingYaml("sample_api", "24h", MAPPINGS));
    const proc = group.start("statsd_exporter", exporter.path, exporterArgs({ mappingPath, statsdListen: `127.0.0.1:${udp}`, webListen: `127.0.0.1:${web}` }));
    await group.waitHttp(proc, `http://127.0.0.1:${web}/-/healthy`);
    metricsUrl = `http://127.0.0.1:${web}/metrics`;
  });

  it("a team's line appears under its mapped name and labels; the catalog's lines keep the catalog's mappings", async () => {
    await sendStatsd(udp, TEAM_LINE.line);
    await sendStatsd(udp, "checkout.pay_time:250|ms");
    await sendStatsd(udp, "sample_api.http_requests:1|c|#app_name:sample-api,route:/,method:GET,status:200");
    await sendStatsd(udp, "sample_api.queue_depth:3|g");
    let text = "";
    const arrived = await waitFor(async () => {
      text = await (await fetch(metricsUrl)).text();
      return text.includes("sample_api_other{");
    }, 10_000, 100);
    assert.ok(arrived, text);
    assert.deepEqual([...parseMetricsText(text, "checkout_orders_total")], [['{region="eu"}', TEAM_LINE.value]]);
    // 250 ms in seconds, in the team's own buckets.
    assert.deepEqual([...parseMetricsText(text, "checkout_pay_seconds_bucket")], [['{le="0.1"}', 0], ['{le="1"}', 1], ['{le="10"}', 1], ['{le="+Inf"}', 1]]);
    assert.deepEqual([...parseMetricsText(text, "http_requests_total")], [['{app_name="sample-api",method="GET",route="/",status="200"}', 1]]);
    assert.deepEqual([...parseMetricsText(text, "sample_api_other")], [['{metric="queue_depth"}', 3]]);
  });
});

describe("a team's rule file on the real promtool and Prometheus", { skip: promtool.skip || prometheus.skip }, () => {
  const group = new ProcessGroup();
  after(() => group.stopAll());
  const configDir = path.join(dir, "prometheus");
  let configPath = "";

  before(() => {
    mkdirSync(configDir, { recursive: true });
    configPath = path.join(configDir, "prometheus.yml");
    writeFileSync(path.join(configDir, PROMETHEUS_RULES_FILE), prometheusRulesYaml({ appName: DEFAULT_APP_NAME, thresholds: DEFAULT_ALERT_THRESHOLDS }));
    writeFileSync(path.join(configDir, PROMETHEUS_OWN_RULES_FILE), ownRulesFile("rules/checkout.yml", TEAM_RULES_YAML));
  });

  it("promtool check rules accepts the team's file as delivered, and check config the prometheus.yml naming both files", async () => {
    const web = await freeTcpPort();
    writeFileSync(configPath, prometheusConfigYaml({ exporters: { static: `127.0.0.1:${web}` }, selfTarget: `127.0.0.1:${web}`, ownRules: true }));
    const rules = spawnSync(promtool.path, ["check", "rules", path.join(configDir, PROMETHEUS_OWN_RULES_FILE)], { encoding: "utf8", timeout: 20_000 });
    assert.equal(rules.status, 0, rules.stdout + rules.stderr);
    assert.match(rules.stdout, /SUCCESS: 2 rules found/);
    const config = spawnSync(promtool.path, ["check", "config", configPath], { encoding: "utf8", timeout: 20_000 });
    assert.equal(config.status, 0, config.stdout + config.stderr);
    assert.match(config.stdout, /own-rules\.yml/);
  });

  it("Prometheus loads the team's group beside the generated ones and evaluates its rules without error", async () => {
    const port = await freeTcpPort();
    writeFileSync(configPath, prometheusConfigYaml({ exporters: { static: `127.0.0.1:${port}` }, selfTarget: `127.0.0.1:${port}`, ownRules: true }));
    mkdirSync(path.join(dir, "prometheus-data"), { recursive: true });
    const proc = group.start("prometheus", prometheus.path, prometheusArgs({ configPath, dataDir: path.join(dir, "prometheus-data"), listenAddress: `127.0.0.1:${port}` }));
    const url = `http://127.0.0.1:${port}`;
    await group.waitHttp(proc, `${url}/-/ready`);
    type Groups = { data: { groups: Array<{ name: string; file: string; rules: Array<{ name: string; health: string; lastEvaluation: string }> }> } };
    let groups: Groups["data"]["groups"] = [];
    const evaluated = await waitFor(async () => {
      groups = (await getJson<Groups>(`${url}/api/v1/rules`)).data.groups;
      const team = groups.find((g) => g.name === TEAM_RULE_GROUP);
      return team !== undefined && team.rules.every((r) => r.health === "ok" && !r.lastEvaluation.startsWith("0001"));
    }, 30_000, 250);
    assert.ok(evaluated, JSON.stringify(groups.find((g) => g.name === TEAM_RULE_GROUP)));
    assert.deepEqual(
      groups.map((g) => `${g.name} from ${path.basename(g.file)}`).sort(),
      ["checkout from own-rules.yml", "statsd-stack-alerts from rules.yml", "statsd-stack-recording from rules.yml"],
    );
    assert.deepEqual(groups.find((g) => g.name === TEAM_RULE_GROUP)!.rules.map((r) => r.name), ["region:checkout_orders:rate5m", "CheckoutOrdersSurge"]);
  });
});

describe("a team's carbon sections on the real carbon-cache", { skip: carbon.skip }, () => {
  const group = new ProcessGroup();
  let cache: CarbonCache;
  after(async () => {
    await group.stopAll();
    if (cache) rmSync(cache.dir, { recursive: true, force: true });
  });

  const CATALOG_COUNT = "stats_counts.sample_api.http_requests.root.GET.200";
  const archives = (retentions: string) => (parseRetentions(retentions) as { archives: Array<{ precision: number; points: number }> }).archives.map((a) => ({ secondsPerPoint: a.precision, points: a.points }));

  it("a team's new series get the team's archives and rollup; the catalog's keep the program's", async () => {
    const aggregation = TEAM_AGGREGATION.map((a) => ({ ...a, method: a.method as "max" }));
    cache = await startCarbonCache(group, { storageSchemas: storageSchemasConf(RETENTIONS, TEAM_SCHEMAS), storageAggregation: storageAggregationConf(aggregation) });
    const now = Math.floor(Date.now() / 1000);
    const series = [TEAM_GRAPHITE.count, TEAM_GRAPHITE.gauge, "stats.checkout.orders", CATALOG_COUNT];
    await sendPlaintext(cache.linePort, series.map((s) => `${s} 1 ${now}`));
    const files = series.map((s) => whisperFile(cache.whisperDir, s));
    assert.ok(await waitFor(async () => files.every(existsSync), 30_000, 200), `carbon wrote no file for one of ${series.join(", ")}`);
    assert.deepEqual(
      files.map(whisperInfo),
      [
        { aggregationMethod: "sum", xFilesFactor: 0, archives: teamArchives() },
        { aggregationMethod: "max", xFilesFactor: 0.5, archives: teamArchives() },
        { aggregationMethod: "average", xFilesFactor: 0, archives: teamArchives() },
        { aggregationMethod: "sum", xFilesFactor: 0, archives: archives(RETENTIONS) },
      ],
    );
  });
});
