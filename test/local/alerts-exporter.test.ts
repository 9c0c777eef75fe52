/**
 * The exporter topology's alerting pieces on real software, on 127.0.0.1: amtool v0.35.0 checks the generated
 * alertmanager.yml; Prometheus v3.13.5 with a retention size serves the series the storage alert reads, and the
 * local stack runs Alertmanager with the generated files (the webhook URL in its own file, as deployed). The alert
 * scenario itself (test/support/alert-scenario.ts: fire, notify, inhibit, resolve) runs on the deployed stacks, on
 * Docker and Kubernetes (test/deploy); `startExporterStack(group, { alerting })` runs it here by hand.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../app/src/tools/wait";
import { alertmanagerConfigYaml } from "../../pipeline/alertmanager";
import { alertingRules, EXPORTER_SERIES_HELD, TSDB_SIZE_METRICS } from "../../pipeline/rules";
import { PrometheusApi } from "../../scripts/checks/backends";
import { ProcessGroup, runCommand } from "../../scripts/local/processes";
import { binaries, startExporterStack, type ExporterStack } from "../../scripts/local/stacks";
import { SCENARIO_ROUTING, SCENARIO_THRESHOLDS } from "../support/alert-scenario";
import { sendStatsd } from "../support/udp";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";

const needed = [binaries.statsdExporter(), binaries.prometheus(), binaries.alertmanager(), binaries.amtool()];
const skip = needed.find((b) => b.skip)?.skip ?? false;
const RETENTION_SIZE = "1GB";
/** New counter names the flood case sends. */
const FLOOD_NAMES = 200;

describe("amtool check-config on the generated alertmanager.yml", { skip }, () => {
  const check = async (webhookUrlFile?: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-amtool-"));
    const file = path.join(dir, "alertmanager.yml");
    writeFileSync(file, alertmanagerConfigYaml({ routing: SCENARIO_ROUTING, webhookUrlFile }));
    return runCommand(binaries.amtool().path, ["check-config", file], { timeoutMs: 30_000 });
  };

  it("accepts it with a webhook receiver: 1 receiver, 1 inhibit rule", async () => {
    const result = await check("/etc/alertmanager/secrets/webhook-url");
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS[\s\S]* - 1 inhibit rules\n - 1 receivers/);
  });

  it("accepts it without one (alerts shown, sent nowhere)", async () => {
    const result = await check(undefined);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
  });
});

describe("Prometheus with a retention size and Alertmanager, as the exporter stack runs them", { skip }, () => {
  const group = new ProcessGroup();
  const token = randomBytes(12).toString("hex");
  let stack: ExporterStack;

  before(async () => {
    stack = await startExporterStack(group, {
      alerting: {
        thresholds: SCENARIO_THRESHOLDS,
        routing: SCENARIO_ROUTING,
        // Nothing fires here: the URL is only written to its file and must never be shown.
        webhookUrl: `http://127.0.0.1:9/hook?token=${token}`,
        retentionSize: RETENTION_SIZE,
      },
    });
  });

  after(() => group.stopAll());

  it("Prometheus sends its alerts to the stack's Alertmanager: listed among its active Alertmanagers", async () => {
    const url = `${stack.prometheusUrl}/api/v1/alertmanagers`;
    let active: string[] = [];
    const found = await waitFor(async () => {
      const body = (await (await fetch(url)).json()) as { data: { activeAlertmanagers: Array<{ url: string }> } };
      active = body.data.activeAlertmanagers.map((a) => a.url);
      return active.length > 0;
    }, 30_000, 500);
    assert.ok(found, "Prometheus lists no active Alertmanager");
    assert.deepEqual(active, [`${stack.alertmanagerUrl}/api/v2/alerts`]);
  });

  it("Alertmanager runs the generated configuration, which names the URL's file and never shows the URL", async () => {
    const status = (await (await fetch(`${stack.alertmanagerUrl}/api/v2/status`)).json()) as { config: { original: string } };
    assert.match(status.config.original, /url_file: .+webhook-url/);
    assert.equal(status.config.original.includes(token), false);
  });

  it("Prometheus reports the TSDB sizes and the retention limit PrometheusStorageNearRetentionSize divides", async () => {
    const prom = new PrometheusApi(stack.prometheusUrl);
    const selectors = [...TSDB_SIZE_METRICS, "prometheus_tsdb_retention_limit_bytes"].map((m) => `${m}{job="prometheus"}`);
    // Prometheus scrapes itself every 5 s: the first scrape may not have happened yet.
    const scraped = await waitFor(async () => (await Promise.all(selectors.map((s) => prom.query(s)))).every((r) => r.length === 1), 30_000, 1000);
    assert.ok(scraped, `not every one of ${selectors.join(", ")} has one series`);
    assert.deepEqual((await prom.query(selectors.at(-1)!)).map((s) => s.value), [1024 ** 3]);
  });

  it("StatsdSeriesFlood's expression reads the exporter's series: 200 new names add exactly 200, and its threshold selects the exporter 1 below", async (t) => {
    const prom = new PrometheusApi(stack.prometheusUrl);
    const instance = new URL(stack.exporterMetricsUrl).host;
    const heldNow = async () => (await prom.query(EXPORTER_SERIES_HELD)).map((s) => [s.metric.instance, s.value] as const);
    let held: ReadonlyArray<readonly [string | undefined, number]> = [];
    assert.ok(await waitFor(async () => (held = await heldNow()).length === 1, 30_000, 1000), "statsd_exporter_metrics_total not scraped");
    const [[target, before]] = held as [readonly [string, number]];
    assert.equal(target, instance);
    t.diagnostic(`the app alone: statsd_exporter holds ${before} series`);

    const names = Array.from({ length: FLOOD_NAMES }, (_, i) => `flood.order_${i}:1|c`);
    for (let i = 0; i < names.length; i += 20) await sendStatsd(stack.exporterStatsdPort, names.slice(i, i + 20).join("\n"));
    const counted = await waitFor(async () => ((held = await heldNow())[0]?.[1] ?? 0) >= before + FLOOD_NAMES, 30_000, 1000);
    assert.ok(counted, `held ${JSON.stringify(held)}, expected ${before} + ${FLOOD_NAMES}`);
    assert.deepEqual(held, [[instance, before + FLOOD_NAMES]]);

    const floodExpr = (seriesFlood: number) => alertingRules({ appName: "sample-api", thresholds: { ...SCENARIO_THRESHOLDS, seriesFlood } }).find((r) => r.alert === "StatsdSeriesFlood")!.expr;
    assert.deepEqual((await prom.query(floodExpr(before + FLOOD_NAMES - 1))).map((s) => s.metric.instance), [instance]);
    assert.deepEqual(await prom.query(floodExpr(before + FLOOD_NAMES)), []);
  });
});
