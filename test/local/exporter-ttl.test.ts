/**
 * The flood guard on the exporter topology, on the real statsd_exporter (the image's v0.30.0): a team's series leave
 * after `exporterOwnMetricsTtl` without an event, the catalog's never. The TTL here is 2 s so the test is short;
 * statsd_exporter sweeps expired series every TTL / 2.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { exporterArgs, exporterMappingYaml } from "../../pipeline/exporter";
import { parseMetricsText } from "../../scripts/checks/backends";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup } from "../../scripts/local/processes";
import { binaries } from "../../scripts/local/stacks";
import { sendStatsd } from "../support/udp";

const exporter = binaries.statsdExporter();
const TTL_SECONDS = 2;

describe(`statsd_exporter with exporterOwnMetricsTtl = ${TTL_SECONDS}s`, { skip: exporter.skip }, () => {
  const group = new ProcessGroup();
  let metricsUrl = "";
  let udp = 0;

  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-ttl-"));
    const mappingPath = path.join(dir, "mapping.yml");
    writeFileSync(mappingPath, exporterMappingYaml(DEFAULT_METRIC_PREFIX, `${TTL_SECONDS}s`));
    udp = await freeTcpUdpPort();
    const web = await freeTcpPort();
    const proc = group.start("statsd_exporter", exporter.path, exporterArgs({ mappingPath, statsdListen: `127.0.0.1:${udp}`, webListen: `127.0.0.1:${web}` }));
    metricsUrl = `http://127.0.0.1:${web}/metrics`;
    await group.waitHttp(proc, `http://127.0.0.1:${web}/-/healthy`, 10_000);
  });
  after(() => group.stopAll());

  it("drops a team's counter once it has had no event for the TTL, and keeps the catalog's request counter", async () => {
    const sentAt = performance.now();
    await sendStatsd(udp, "flood_test.name_1:1|c");
    await sendStatsd(udp, `${DEFAULT_METRIC_PREFIX}.http_requests:1|c|#app_name:sample-api,route:/,method:GET,status:200`);
    const series = async () => {
      const text = await (await fetch(metricsUrl)).text();
      return { team: [...parseMetricsText(text, "flood_test_name_1")], requests: [...parseMetricsText(text, "http_requests_total")] };
    };
    assert.ok(await waitFor(async () => (await series()).team.length === 1 && (await series()).requests.length === 1, 10_000, 100), "both series appeared");
    assert.ok(await waitFor(async () => (await series()).team.length === 0, 30_000, 200), "the team's series never expired within 30 s");
    // Not before the TTL: statsd_exporter received the line after sentAt, so a series gone sooner was not idle-expired.
    const goneAfter = performance.now() - sentAt;
    assert.ok(goneAfter >= TTL_SECONDS * 1000, `gone ${goneAfter.toFixed(0)} ms after it was sent`);
    assert.deepEqual((await series()).requests, [['{app_name="sample-api",method="GET",route="/",status="200"}', 1]]);
  });
});
