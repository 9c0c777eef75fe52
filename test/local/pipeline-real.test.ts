/**
 * The generated pipeline configs fed to the real programs on 127.0.0.1: statsd_exporter v0.30.0 (the image's
 * version, built by test/images/build.sh) checks and serves the mapping; promtool v3.13.5 (built with Prometheus
 * v3.13.5 by the same script) checks the Prometheus config. The real app sends the load.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { exporterMappingYaml } from "../../pipeline/exporter";
import { PROMETHEUS_RULES_FILE, prometheusConfigYaml } from "../../pipeline/prometheus";
import { DEFAULT_ALERT_THRESHOLDS, prometheusRulesYaml } from "../../pipeline/rules";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../app/src/config";
import { createRecorder } from "../../app/src/metrics/recorder";
import { createServer } from "../../app/src/server";
import { waitFor } from "../../app/src/tools/wait";
import { metricsTextTotal, parseMetricsText } from "../../scripts/checks/backends";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup } from "../../scripts/local/processes";
import { binaries } from "../../scripts/local/stacks";

/** The pinned versions the images run; any other statsd_exporter or promtool on PATH skips (fails under CI). */
const exporter = binaries.statsdExporter();
const promtool = binaries.promtool();
const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-"));

/**
 * The real server and recorder in this process, sending DogStatsD to 127.0.0.1:`statsdPort`, with `random` for its
 * draws (so /random_status answers a known sequence); `stop()` flushes what the recorder holds.
 */
async function startInProcessApp(statsdPort: number, random: () => number) {
  const env = { METRICS_STYLE: "dogstatsd", STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsdPort), INFO_INTERVAL_SECONDS: "3600" };
  const recorder = createRecorder(loadConfig(env, "1.2.3"), () => {});
  const server = createServer({ recorder, random, log: () => {} });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await recorder.close(1000);
    },
  };
}

describe("generated configs accepted by the real programs", () => {
  it("statsd_exporter --check-config accepts the generated mapping", { skip: exporter.skip }, () => {
    const file = path.join(dir, "mapping.yml");
    writeFileSync(file, exporterMappingYaml("sample_api"));
    const result = spawnSync(exporter.path, [`--statsd.mapping-config=${file}`, "--check-config"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 0, result.stderr);
  });

  it("promtool check config accepts the generated Prometheus config and the rule file it names", { skip: promtool.skip }, () => {
    const file = path.join(dir, "prometheus.yml");
    writeFileSync(file, prometheusConfigYaml({ exporters: { static: "statsd-exporter:9102" }, selfTarget: "localhost:9090" }));
    writeFileSync(path.join(dir, PROMETHEUS_RULES_FILE), prometheusRulesYaml({ appName: "sample-api", thresholds: DEFAULT_ALERT_THRESHOLDS }));
    const result = spawnSync(promtool.path, ["check", "config", file], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

describe("app -> real statsd_exporter, with the generated mapping", { skip: exporter.skip }, () => {
  const group = new ProcessGroup();
  let metrics = "";

  before(async () => {
    const [UDP, WEB] = [await freeTcpUdpPort(), await freeTcpPort()];
    const file = path.join(dir, "mapping-live.yml");
    writeFileSync(file, exporterMappingYaml("sample_api"));
    const proc = group.start("statsd_exporter", exporter.path, [
      `--statsd.mapping-config=${file}`,
      `--statsd.listen-udp=127.0.0.1:${UDP}`,
      `--statsd.listen-tcp=127.0.0.1:${UDP}`,
      `--web.listen-address=127.0.0.1:${WEB}`,
    ]);
    // Throws with the exporter's output when it does not answer in time.
    await group.waitHttp(proc, `http://127.0.0.1:${WEB}/-/healthy`, 10_000);
    let draw = 0;
    // A fixed sequence of draws: /random_status answers 200, 300, 400, 500 in turn.
    const draws = [0.05, 0.65, 0.75, 0.95];
    const app = await startInProcessApp(UDP, () => draws[draw++ % draws.length]!);
    for (let i = 0; i < 40; i++) await (await fetch(`${app.url}/`)).text();
    for (let i = 0; i < 8; i++) await (await fetch(`${app.url}/random_status`)).text();
    for (let i = 0; i < 5; i++) await (await fetch(`${app.url}/missing/${i}`)).text();
    await app.stop();
    const arrived = await waitFor(async () => {
      metrics = await (await fetch(`http://127.0.0.1:${WEB}/metrics`)).text();
      return metricsTextTotal(metrics, "http_requests_total") >= 53;
    }, 10_000, 100);
    assert.ok(arrived, `statsd_exporter counted ${metricsTextTotal(metrics, "http_requests_total")} of 53 requests within 10 s`);
  });
  after(() => group.stopAll());

  it("counts every request exactly, by route and status, under the catalog's names", () => {
    const counts = parseMetricsText(metrics, "http_requests_total");
    const simplified = Object.fromEntries(
      [...counts].map(([labels, v]) => [/route="([^"]*)"/.exec(labels)![1] + " " + /status="([^"]*)"/.exec(labels)![1], v]),
    );
    assert.deepEqual(simplified, {
      "/ 200": 40,
      "/random_status 200": 2,
      "/random_status 300": 2,
      "/random_status 400": 2,
      "/random_status 500": 2,
      "unmatched 404": 5,
    });
  });

  it("records latency as a histogram in seconds with the catalog's buckets", () => {
    assert.equal(metricsTextTotal(metrics, "http_request_duration_seconds_count"), 53);
    assert.ok(metrics.includes('le="0.001"') && metrics.includes('le="10"'));
    assert.equal(parseMetricsText(metrics, "http_request_duration_seconds").size, 0, "no summary quantiles");
  });

  it("exposes the info gauge with app_name and version", () => {
    assert.deepEqual([...parseMetricsText(metrics, "app_info")], [['{app_name="sample-api",version="1.2.3"}', 1]]);
  });

  it("drops nothing: no unmapped, conflicting or erroneous events", () => {
    assert.equal(metricsTextTotal(metrics, "statsd_exporter_events_unmapped_total"), 0);
    assert.equal(metricsTextTotal(metrics, "statsd_exporter_events_conflict_total"), 0);
    assert.equal(metricsTextTotal(metrics, "statsd_exporter_sample_errors_total"), 0);
    assert.equal(metricsTextTotal(metrics, "statsd_exporter_udp_packet_drops_total"), 0);
  });
});
