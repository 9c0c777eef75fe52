/**
 * The exporter topology's alerting on real software, on 127.0.0.1: the app, statsd_exporter v0.30.0, Prometheus
 * v3.13.5 with the generated rules and Alertmanager v0.35.0 with the generated alertmanager.yml (the webhook URL in
 * its own file, as deployed), notifying a webhook receiver the test runs (test/support/webhook-receiver.ts). The
 * scenario (test/support/alert-scenario.ts) is the one the deployment tiers run on Docker and Kubernetes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_APP_NAME } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { alertmanagerConfigYaml, RECEIVERS } from "../../pipeline/alertmanager";
import { TSDB_SIZE_METRICS } from "../../pipeline/rules";
import { PrometheusApi } from "../../scripts/checks/backends";
import { freeTcpPort, ProcessGroup, runCommand } from "../../scripts/local/processes";
import { binaries, startExporterStack, type ExporterStack } from "../../scripts/local/stacks";
import { AlertScenario, EXPORTER_DOWN_FOR_SECONDS, SCENARIO_ROUTING, SCENARIO_THRESHOLDS } from "../support/alert-scenario";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";

const needed = [binaries.statsdExporter(), binaries.prometheus(), binaries.alertmanager(), binaries.amtool()];
const skip = needed.find((b) => b.skip)?.skip ?? false;
const RETENTION_SIZE = "1GB";

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

describe("alerts end to end on real Prometheus and Alertmanager: fire, notify, inhibit, resolve", { skip }, () => {
  const group = new ProcessGroup();
  const token = randomBytes(12).toString("hex");
  let stack: ExporterStack;
  let scenario: AlertScenario;

  before(async () => {
    const receiverPort = await freeTcpPort();
    const receiver = group.start("webhook-receiver", process.execPath, ["--import", "tsx", path.join(__dirname, "..", "support", "webhook-receiver.ts")], {
      env: { HOST: "127.0.0.1", PORT: String(receiverPort), TOKEN: token },
    });
    const receiverUrl = `http://127.0.0.1:${receiverPort}`;
    await group.waitHttp(receiver, `${receiverUrl}/received`);
    stack = await startExporterStack(group, {
      alerting: {
        thresholds: SCENARIO_THRESHOLDS,
        routing: SCENARIO_ROUTING,
        webhookUrl: `${receiverUrl}/hook?token=${token}`,
        retentionSize: RETENTION_SIZE,
      },
    });
    scenario = new AlertScenario({ apiUrl: stack.apiUrl, alertmanagerUrl: stack.alertmanagerUrl!, receiverUrl });
  });

  after(async () => {
    await scenario?.stop();
    await group.stopAll();
  });

  it("Prometheus reports the TSDB sizes and the retention limit PrometheusStorageNearRetentionSize divides", async () => {
    const prom = new PrometheusApi(stack.prometheusUrl);
    const selectors = [...TSDB_SIZE_METRICS, "prometheus_tsdb_retention_limit_bytes"].map((m) => `${m}{job="prometheus"}`);
    // Prometheus scrapes itself every 5 s: the first scrape may not have happened yet.
    const scraped = await waitFor(async () => (await Promise.all(selectors.map((s) => prom.query(s)))).every((r) => r.length === 1), 30_000, 1000);
    assert.ok(scraped, `not every one of ${selectors.join(", ")} has one series`);
    assert.deepEqual((await prom.query(selectors.at(-1)!)).map((s) => s.value), [1024 ** 3]);
  });

  it("a failing load makes AppHighServerErrorRatio fire, and the webhook gets it with its token, grouped by alert and app", async (t) => {
    const { notification, secondsFromFirstError, load } = await scenario.failingLoadFires();
    assert.ok(notification, `no firing notification within the bound; load so far: ${JSON.stringify([...load.statuses])}`);
    t.diagnostic(`first 5xx to firing notification: ${secondsFromFirstError?.toFixed(1)} s (for ${SCENARIO_THRESHOLDS.serverErrorFor})`);
    assert.equal(notification.tokenOk, true);
    assert.equal(notification.body.receiver, RECEIVERS.webhook);
    assert.deepEqual(notification.body.groupLabels, { alertname: "AppHighServerErrorRatio", app_name: DEFAULT_APP_NAME });
    assert.deepEqual(
      notification.body.alerts.map((a) => [a.status, a.labels.severity, a.labels.app_name]),
      [["firing", "critical", DEFAULT_APP_NAME]],
    );
  });

  it("statsd_exporter stopped: StatsdExporterDown is notified, and AppHighServerErrorRatio is inhibited by it", async (t) => {
    const started = Date.now();
    const { notification, inhibited, inhibitor } = await scenario.exporterDownInhibits(() => stack.exporter.stop());
    assert.ok(notification, "no StatsdExporterDown notification within the bound");
    t.diagnostic(`exporter stopped to StatsdExporterDown notification: ${((notification.receivedAt - started) / 1000).toFixed(1)} s (for ${EXPORTER_DOWN_FOR_SECONDS} s)`);
    assert.equal(notification.tokenOk, true);
    assert.ok(notification.receivedAt - started >= EXPORTER_DOWN_FOR_SECONDS * 1000, "notified before its for had passed");
    assert.ok(inhibitor && inhibited, "Alertmanager does not show AppHighServerErrorRatio inhibited by StatsdExporterDown");
    assert.deepEqual(inhibited.status.inhibitedBy, [inhibitor.fingerprint]);
  });

  it("statsd_exporter back and a healthy load: both alerts resolve, and the webhook gets the resolved notifications", async (t) => {
    const started = Date.now();
    const { service, pipeline } = await scenario.healthyLoadResolves(() => stack.startExporter());
    assert.ok(pipeline, "no resolved notification for StatsdExporterDown");
    assert.ok(service, "no resolved notification for AppHighServerErrorRatio");
    t.diagnostic(`healthy load to resolved: ${((service.receivedAt - started) / 1000).toFixed(1)} s`);
    assert.deepEqual([service.tokenOk, pipeline.tokenOk], [true, true]);
  });
});
