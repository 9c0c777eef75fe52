/**
 * The generated pipeline configs fed to the real programs on 127.0.0.1: statsd_exporter (built from the same
 * version as the image with `go install`) checks and serves the mapping; promtool (Debian's Prometheus 2.42: the
 * Prometheus 3 module cannot be `go install`ed) checks the Prometheus config. The real app sends the load.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { exporterMappingYaml } from "../../pipeline/exporter";
import { prometheusConfigYaml } from "../../pipeline/prometheus";
import { startApp, waitFor, type RunningApp } from "../../app/test/helpers";
import { metricsTextTotal, parseMetricsText } from "../../scripts/checks/backends";
import { requireBinary } from "../../scripts/local/binaries";

const exporter = requireBinary("statsd_exporter", "go install github.com/prometheus/statsd_exporter@v0.30.0");
const promtool = requireBinary("promtool", "apt-get install prometheus");
const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-"));

describe("generated configs accepted by the real programs", () => {
  it("statsd_exporter --check-config accepts the generated mapping", { skip: exporter.skip }, () => {
    const file = path.join(dir, "mapping.yml");
    writeFileSync(file, exporterMappingYaml("sample_api"));
    const result = spawnSync(exporter.path, [`--statsd.mapping-config=${file}`, "--check-config"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 0, result.stderr);
  });

  it("promtool check config accepts the generated Prometheus config", { skip: promtool.skip }, () => {
    const file = path.join(dir, "prometheus.yml");
    writeFileSync(file, prometheusConfigYaml({ exporterTarget: "statsd-exporter:9102", selfTarget: "localhost:9090" }));
    const result = spawnSync(promtool.path, ["check", "config", file], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

describe("app -> real statsd_exporter, with the generated mapping", { skip: exporter.skip }, () => {
  const WEB = 19102;
  const UDP = 19125;
  let proc: ChildProcess;
  let app: RunningApp;
  let metrics = "";

  before(async () => {
    const file = path.join(dir, "mapping-live.yml");
    writeFileSync(file, exporterMappingYaml("sample_api"));
    proc = spawn(exporter.path, [
      `--statsd.mapping-config=${file}`,
      `--statsd.listen-udp=127.0.0.1:${UDP}`,
      `--statsd.listen-tcp=127.0.0.1:${UDP}`,
      `--web.listen-address=127.0.0.1:${WEB}`,
    ], { stdio: "ignore" });
    const healthy = await waitFor(async () => (await fetch(`http://127.0.0.1:${WEB}/-/healthy`)).ok, 10_000, 100);
    assert.ok(healthy, "statsd_exporter did not become healthy in 10 s");
    let draw = 0;
    // A fixed sequence of draws: /random_status answers 200, 300, 400, 500 in turn.
    const draws = [0.05, 0.65, 0.75, 0.95];
    app = await startApp(
      { METRICS_STYLE: "dogstatsd", STATSD_HOST: "127.0.0.1", STATSD_PORT: String(UDP) },
      { random: () => draws[draw++ % draws.length]! },
    );
    for (let i = 0; i < 40; i++) await (await fetch(`${app.url}/`)).text();
    for (let i = 0; i < 8; i++) await (await fetch(`${app.url}/random_status`)).text();
    for (let i = 0; i < 5; i++) await (await fetch(`${app.url}/missing/${i}`)).text();
    await app.stop();
    await waitFor(async () => {
      metrics = await (await fetch(`http://127.0.0.1:${WEB}/metrics`)).text();
      return metricsTextTotal(metrics, "http_requests_total") >= 53;
    }, 10_000, 100);
  });
  after(() => {
    proc?.kill();
  });

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
