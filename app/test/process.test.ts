import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../src/config";
import { IO_TASK_MS } from "../src/routes";
import { freeTcpPort, udpCapture, waitedNominal, waitFor } from "./helpers";

const MAIN = path.join(__dirname, "..", "src", "main.ts");

/** Runs the app's real entry point as a child process with the given environment (and no inherited STATSD_*). */
function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: path.join(__dirname, "..", ".."),
    env: { PATH: process.env.PATH ?? "", METRICS_ENABLED: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const killTimer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  void exited.then(() => clearTimeout(killTimer));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe("process lifecycle", () => {
  it("SIGTERM during /io_task: the request completes and the process exits 0", async () => {
    const port = await freeTcpPort();
    const app = launch({ PORT: String(port) });
    assert.ok(await waitFor(() => app.out().includes(`listening on :${port};`), 15_000), app.err());
    const inFlight = fetch(`http://127.0.0.1:${port}/io_task`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 300));
    app.child.kill("SIGTERM");
    assert.deepEqual(await inFlight, { status: 200, body: "IO bound task finish!" });
    assert.equal(await app.exited, 0);
    assert.match(app.out(), /SIGTERM: no new connections/);
  });

  it("SIGTERM with metrics on: the in-flight request's latency and count reach StatsD before the process exits", async () => {
    const statsd = await udpCapture();
    try {
      const port = await freeTcpPort();
      const app = launch({
        PORT: String(port),
        METRICS_ENABLED: "true",
        METRICS_STYLE: "graphite",
        STATSD_HOST: "127.0.0.1",
        STATSD_PORT: String(statsd.port),
      });
      assert.ok(await waitFor(() => app.out().includes(`listening on :${port};`), 15_000), app.err());
      const inFlight = fetch(`http://127.0.0.1:${port}/io_task`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 300));
      app.child.kill("SIGTERM");
      await inFlight;
      assert.equal(await app.exited, 0);
      const requestLines = statsd.lines.filter((l) => l.includes(".io_task.GET.200:"));
      assert.equal(requestLines.length, 2, statsd.lines.join("\n"));
      const timer = /^sample_api\.http_request_duration_ms\.io_task\.GET\.200:(\d+(?:\.\d+)?)\|ms$/.exec(requestLines[0]!);
      assert.ok(timer, requestLines[0]);
      // /io_task sleeps 2 s (its timer may fire up to 1 ms early); a busy machine can only make it later.
      assert.ok(waitedNominal(Number(timer[1]), IO_TASK_MS), `io_task took ${timer[1]} ms`);
      assert.equal(requestLines[1], "sample_api.http_requests.io_task.GET.200:1|c");
    } finally {
      await statsd.close();
    }
  });

  for (const [variable, value, message] of [
    ["METRICS_STYLE", "influx", 'METRICS_STYLE="influx" is not valid: expected one of graphite, dogstatsd'],
    ["STATSD_PORT", "70000", 'STATSD_PORT="70000" is not valid: expected an integer from 1 to 65535'],
    ["PORT", "http", 'PORT="http" is not valid: expected an integer from 1 to 65535'],
  ] as const) {
    it(`${variable}=${value} stops start-up with one clear line and exit code 2`, async () => {
      const app = launch({ [variable]: value });
      assert.equal(await app.exited, 2);
      assert.equal(app.err(), `sample-api: ${message}\n`);
      assert.equal(app.out(), "");
    });
  }
});

describe("configuration", () => {
  it("defaults: port 8000, StatsD localhost:8125, graphite style, prefix sample_api, app sample-api", () => {
    const config = loadConfig({}, "1.0.0");
    assert.deepEqual(config, {
      port: 8000,
      statsdHost: "localhost",
      statsdPort: 8125,
      metricsStyle: "graphite",
      metricsEnabled: true,
      metricPrefix: "sample_api",
      appName: "sample-api",
      appVersion: "1.0.0",
      infoIntervalMs: 15_000,
      shutdownTimeoutMs: 10_000,
      limits: {
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 65_000,
        maxHeaderBytes: 16_384,
        maxConnections: 1_000,
      },
    });
  });

  it("server limits: each variable sets its limit, the timeouts in seconds", () => {
    const { limits } = loadConfig(
      {
        REQUEST_TIMEOUT_SECONDS: "60",
        HEADERS_TIMEOUT_SECONDS: "20",
        KEEP_ALIVE_TIMEOUT_SECONDS: "620",
        MAX_HEADER_BYTES: "32768",
        MAX_CONNECTIONS: "5000",
      },
      "1.0.0",
    );
    assert.deepEqual(limits, {
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 20_000,
      keepAliveTimeoutMs: 620_000,
      maxHeaderBytes: 32_768,
      maxConnections: 5_000,
    });
  });

  it("a REQUEST_TIMEOUT_SECONDS below the headers timeout's default (5 s) lowers the headers timeout with it", () => {
    const { limits } = loadConfig({ REQUEST_TIMEOUT_SECONDS: "5" }, "1.0.0");
    assert.deepEqual([limits.requestTimeoutMs, limits.headersTimeoutMs], [5_000, 5_000]);
  });

  const bad: Array<[string, string, string]> = [
    ["PORT", "0", "an integer from 1 to 65535"],
    ["PORT", "8000.5", "an integer from 1 to 65535"],
    ["STATSD_PORT", "-1", "an integer from 1 to 65535"],
    ["STATSD_HOST", "bad host/name", "a host name or IP address"],
    ["METRICS_STYLE", "prometheus", "one of graphite, dogstatsd"],
    ["METRICS_ENABLED", "yes", "one of true, false"],
    ["METRIC_PREFIX", "my.app", "letters, digits and _ (not starting with a digit), e.g. sample_api"],
    ["APP_NAME", "my app", "1 to 63 letters, digits, _ or -, starting with a letter or digit"],
    ["INFO_INTERVAL_SECONDS", "0", "an integer from 1 to 3600"],
    ["SHUTDOWN_TIMEOUT_SECONDS", "ten", "an integer from 0 to 300"],
    ["REQUEST_TIMEOUT_SECONDS", "0", "an integer from 1 to 3600"],
    ["REQUEST_TIMEOUT_SECONDS", "30s", "an integer from 1 to 3600"],
    ["HEADERS_TIMEOUT_SECONDS", "31", "an integer from 1 to 30 (at most REQUEST_TIMEOUT_SECONDS)"],
    ["KEEP_ALIVE_TIMEOUT_SECONDS", "0", "an integer from 1 to 3600"],
    ["MAX_HEADER_BYTES", "512", "an integer from 1024 to 1048576"],
    ["MAX_CONNECTIONS", "0", "an integer from 1 to 1000000"],
  ];
  for (const [variable, value, accepted] of bad) {
    it(`${variable}=${JSON.stringify(value)} is rejected naming the variable, the value and what is accepted`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }, "1.0.0"),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message === `${variable}=${JSON.stringify(value)} is not valid: expected ${accepted}`,
      );
    });
  }

  it("HEADERS_TIMEOUT_SECONDS above REQUEST_TIMEOUT_SECONDS is rejected against the request timeout given", () => {
    assert.throws(
      () => loadConfig({ REQUEST_TIMEOUT_SECONDS: "5", HEADERS_TIMEOUT_SECONDS: "6" }, "1.0.0"),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === 'HEADERS_TIMEOUT_SECONDS="6" is not valid: expected an integer from 1 to 5 (at most REQUEST_TIMEOUT_SECONDS)',
    );
  });

  it("METRICS_STYLE is case-insensitive", () => {
    assert.equal(loadConfig({ METRICS_STYLE: "DogStatsD" }, "1.0.0").metricsStyle, "dogstatsd");
  });
});
