/**
 * A team's own metrics on the exporter topology: the same calls of a real third-party DogStatsD client (the Python
 * `datadog` package's DogStatsd, pinned in scripts/local/python-clients.txt) sent to two real statsd_exporter v0.30.0
 * processes, one on its defaults (no mapping file, no flag but the listen addresses) and one with the program's
 * generated mapping and command line. What a team's metric becomes must not differ between them (README: "Your own
 * metrics"); only the catalog's timer, mapped by name, may.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_METRIC_PREFIX, LATENCY_BUCKETS_SECONDS } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { exporterArgs, exporterMappingYaml } from "../../pipeline/exporter";
import { metricsTextTotal, parseMetricsText } from "../../scripts/checks/backends";
import { freeTcpPort, freeTcpUdpPort, mustRun, ProcessGroup } from "../../scripts/local/processes";
import { requirePythonClient } from "../../scripts/local/python-clients";
import { binaries } from "../../scripts/local/stacks";

const exporter = binaries.statsdExporter();
const client = requirePythonClient("datadog", "datadog");
const missing = exporter.skip || client.skip || false;
const SCRIPT = path.join(__dirname, "..", "support", "dogstatsd-own-metrics.py");

const WHICH = ["defaults", "program"] as const;
type Which = (typeof WHICH)[number];

/** What the script reports it sent to one port. */
interface Sent {
  readonly datagrams: number;
  readonly sampledCounter: number;
  readonly sampledHistogram: number;
}

/** A summary's samples in exposition order: its quantiles, then `_sum`, then `_count`. */
function summarySamples(text: string, name: string): Array<[string, number]> {
  return [...parseMetricsText(text, name), ...parseMetricsText(text, `${name}_sum`), ...parseMetricsText(text, `${name}_count`)];
}

/** The exposition lines (samples, HELP and TYPE) of every metric whose name starts with `prefix`. */
function linesOf(text: string, prefix: string): string[] {
  return text.split("\n").filter((l) => l.replace(/^# (HELP|TYPE) /, "").startsWith(prefix));
}

describe("a team's own DogStatsD metrics (Python datadog client): statsd_exporter's defaults against the program's mapping", { skip: missing }, () => {
  const group = new ProcessGroup();
  /** /metrics of each exporter once every datagram arrived. */
  const metrics = { defaults: "", program: "" };
  let sent: Sent;

  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-own-metrics-"));
    const mappingPath = path.join(dir, "mapping.yml");
    writeFileSync(mappingPath, exporterMappingYaml(DEFAULT_METRIC_PREFIX));
    const ports = { defaults: { udp: await freeTcpUdpPort(), web: await freeTcpPort() }, program: { udp: await freeTcpUdpPort(), web: await freeTcpPort() } };
    const listen = (which: Which) => ({ statsdListen: `127.0.0.1:${ports[which].udp}`, webListen: `127.0.0.1:${ports[which].web}` });
    const start = async (which: Which, args: string[]) => {
      const proc = group.start(`statsd_exporter (${which})`, exporter.path, args);
      await group.waitHttp(proc, `http://127.0.0.1:${ports[which].web}/-/healthy`, 10_000);
    };
    const { statsdListen, webListen } = listen("defaults");
    await Promise.all([
      // Its defaults but for where it listens (loopback, free ports), which changes nothing it does with a line.
      start("defaults", [`--statsd.listen-udp=${statsdListen}`, `--statsd.listen-tcp=${statsdListen}`, `--web.listen-address=${webListen}`]),
      start("program", exporterArgs({ mappingPath, ...listen("program") })),
    ]);

    const out = await mustRun(client.python, [SCRIPT, String(ports.defaults.udp), String(ports.program.udp)], { env: client.env, timeoutMs: 30_000 });
    const report = JSON.parse(out) as { datadog: string; sent: Record<string, Sent> };
    assert.equal(report.datadog, client.version);
    sent = report.sent[String(ports.defaults.udp)]!;
    assert.deepEqual(report.sent[String(ports.program.udp)], sent, "the same calls to both");

    for (const which of WHICH) {
      const url = `http://127.0.0.1:${ports[which].web}/metrics`;
      const arrived = await waitFor(async () => {
        metrics[which] = await (await fetch(url)).text();
        // The exporter queues events for up to 200 ms after counting their datagram: wait for the last call's series too.
        return metricsTextTotal(metrics[which], "statsd_exporter_udp_packets_total") >= sent.datagrams && /^checkout_workers/m.test(metrics[which]);
      }, 10_000, 100);
      assert.ok(arrived, `statsd_exporter (${which}) got ${metricsTextTotal(metrics[which], "statsd_exporter_udp_packets_total")} of ${sent.datagrams} datagrams within 10 s`);
    }
  });
  after(() => group.stopAll());

  /** Runs `check` on both exporters' /metrics, naming the one that failed. */
  function onBoth(check: (text: string) => void): void {
    for (const which of WHICH) {
      try {
        check(metrics[which]);
      } catch (err) {
        throw new Error(`statsd_exporter (${which}): ${(err as Error).message}`, { cause: err });
      }
    }
  }

  it("every series of the team's metrics is the same on statsd_exporter's defaults and with the program's mapping", () => {
    const team = linesOf(metrics.program, "checkout_");
    // The team's 11 metric names but the set's and the untagged container line's: 4 summaries, 4 counters, a gauge.
    assert.equal(team.filter((l) => l.startsWith("# TYPE")).length, 9);
    assert.deepEqual(team, linesOf(metrics.defaults, "checkout_"));
  });

  it("a counter sampled at 0.25 counts each line it got 4 times", () => {
    // The client let 2 of its 20 calls through (its random draws are seeded): 2 lines x 4.
    assert.equal(sent.sampledCounter, 2);
    onBoth((text) => assert.deepEqual([...parseMetricsText(text, "checkout_retries")], [["", 8]]));
  });

  it("a gauge set to 10, then sent +5 and -3, reads 12: a signed value is a change", () => {
    onBoth((text) => assert.deepEqual([...parseMetricsText(text, "checkout_queue_depth")], [["", 12]]));
  });

  it("DogStatsD tags become labels; a tag without a value is left out and counted as a tag error", () => {
    onBoth((text) => {
      assert.deepEqual([...parseMetricsText(text, "checkout_orders")], [['{region="eu",team="payments"}', 6]]);
      assert.deepEqual([...parseMetricsText(text, "checkout_logins")], [['{region="eu"}', 1]]);
      assert.equal(metricsTextTotal(text, "statsd_exporter_tag_errors_total"), 1);
    });
  });

  it("a DogStatsD container ID (|c:, the client's default in a container) is the label container_id on a tagged line and loses an untagged one", () => {
    onBoth((text) => {
      assert.deepEqual([...parseMetricsText(text, "checkout_workers")], [['{container_id="ci-3f2a9c",team="payments"}', 1]]);
      // Without `|#` the line is split at every colon, the ID's included (statsd_exporter PR #748, open): two errors.
      assert.deepEqual(linesOf(text, "checkout_jobs"), []);
      const errors = parseMetricsText(text, "statsd_exporter_sample_errors_total");
      assert.deepEqual([errors.get('{reason="malformed_container_id"}'), errors.get('{reason="malformed_component"}')], [1, 1]);
    });
  });

  it("a set is refused: no series, one sample error per line (a numeric member is an illegal event, a word a malformed value)", () => {
    onBoth((text) => {
      assert.deepEqual(linesOf(text, "checkout_unique_users"), []);
      const errors = parseMetricsText(text, "statsd_exporter_sample_errors_total");
      assert.deepEqual([errors.get('{reason="illegal_event"}'), errors.get('{reason="malformed_value"}')], [1, 1]);
    });
  });

  it("a team's timer (|ms) is a summary in seconds: 250 and 750 ms give sum 1, count 2, median 0.25", () => {
    onBoth((text) => {
      assert.deepEqual(
        summarySamples(text, "checkout_db_query"),
        [['{quantile="0.5"}', 0.25], ['{quantile="0.9"}', 0.75], ['{quantile="0.99"}', 0.75], ["", 1], ["", 2]],
      );
    });
  });

  it("a team's histogram (|h) of bytes is a summary of the raw values, with no latency buckets", () => {
    onBoth((text) => {
      assert.deepEqual(
        summarySamples(text, "checkout_payload_bytes"),
        [
          ['{team="payments",quantile="0.5"}', 1500],
          ['{team="payments",quantile="0.9"}', 70000],
          ['{team="payments",quantile="0.99"}', 70000],
          ['{team="payments"}', 72012],
          ['{team="payments"}', 3],
        ],
      );
      assert.equal(parseMetricsText(text, "checkout_payload_bytes_bucket").size, 0);
    });
  });

  it("a team's distribution (|d) is a summary of the raw values: 1, 3, 12 give sum 16, count 3, median 3", () => {
    onBoth((text) => {
      assert.deepEqual(
        summarySamples(text, "checkout_cart_items"),
        [['{quantile="0.5"}', 3], ['{quantile="0.9"}', 12], ['{quantile="0.99"}', 12], ["", 16], ["", 3]],
      );
    });
  });

  it("a histogram sampled at 0.5 observes each line it got twice", () => {
    // 6 of 8 calls let through, each observing 8 twice.
    assert.equal(sent.sampledHistogram, 6);
    onBoth((text) => {
      assert.equal(metricsTextTotal(text, "checkout_batch_size_count"), 12);
      assert.equal(metricsTextTotal(text, "checkout_batch_size_sum"), 96);
    });
  });

  it("only the catalog's timer differs: the program maps it to a histogram in seconds with the catalog's latency buckets", () => {
    const labels = '{app_name="own-metrics",method="GET",route="/",status="200"';
    const buckets = parseMetricsText(metrics.program, "http_request_duration_seconds_bucket");
    assert.deepEqual([...buckets.keys()], [...LATENCY_BUCKETS_SECONDS, "+Inf"].map((le) => `${labels},le="${le}"}`));
    assert.deepEqual([buckets.get(`${labels},le="0.1"}`), buckets.get(`${labels},le="0.25"}`)], [0, 1]);
    assert.deepEqual([...parseMetricsText(metrics.program, "statsd_exporter_metrics_total")], [
      ['{type="counter"}', 4],
      ['{type="gauge"}', 1],
      ['{type="histogram"}', 1],
      ['{type="summary"}', 4],
    ]);
    // On its defaults statsd_exporter knows no catalog: the same line is a summary under the name it was sent with.
    assert.equal(metricsTextTotal(metrics.defaults, "sample_api_http_request_duration_ms_count"), 1);
    assert.equal(metricsTextTotal(metrics.defaults, "http_request_duration_seconds_count"), 0);
  });
});
