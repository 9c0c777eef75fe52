import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { IO_TASK_MS } from "../src/routes";
import { formatSummary, ROUND, runLoad } from "../src/tools/load";
import { atLeastNominal, startApp, waitedNominal, type RunningApp } from "./helpers";

/**
 * A server that answers every path at once (or after `delayMs`) and notes when each request arrived; with
 * `closeEvery` n, every n-th answer closes its connection (`Connection: close`), as a stopping server's do.
 */
async function recordingServer(delayMs = 0, closeEvery = 0) {
  const arrivals: { path: string; at: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    arrivals.push({ path: req.url ?? "", at: performance.now() });
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    const answer = arrivals.length;
    setTimeout(() => {
      inFlight--;
      if (closeEvery > 0 && answer % closeEvery === 0) res.setHeader("Connection", "close");
      // Each path answers with its own status, so a response counted under another path shows in the counts.
      res.statusCode = 200 + ROUND.indexOf(req.url as (typeof ROUND)[number]);
      res.end("ok");
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    maxInFlight: () => maxInFlight,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("load command", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp({ METRICS_ENABLED: "false" }, { random: () => 0 });
  });
  after(() => app.stop());

  it("GETs the five endpoints of the app in turn and counts every response by path and status", async () => {
    const summary = await runLoad({ url: app.url, durationSeconds: 30, vus: 1, pauseSeconds: 0.1, maxRequests: 10 });
    assert.equal(summary.requests, 10);
    assert.equal(summary.failures, 0);
    assert.deepEqual(summary.statuses, { 200: 10 });
    assert.deepEqual(summary.byPath, {
      "/": { 200: 2 },
      "/io_task": { 200: 2 },
      "/cpu_task": { 200: 2 },
      "/random_sleep": { 200: 2 },
      "/random_status": { 200: 2 },
    });
    assert.ok(atLeastNominal(summary.latencyMs.p99, IO_TASK_MS), `p99 ${summary.latencyMs.p99} should include /io_task's 2 s`);
    assert.match(formatSummary(summary), /^requests {3}10 in [\d.]+ s \([\d.]+\/s\)\nstatuses {3}200: 10\nlatency {4}p50 /);
  });

  it("a virtual user pauses --pause seconds between rounds, and never inside one", async () => {
    // Long enough that a request inside a round, even on a loaded machine, follows the previous one sooner.
    const pauseMs = 1000;
    const server = await recordingServer();
    try {
      await runLoad({ url: server.url, durationSeconds: 30, vus: 1, pauseSeconds: pauseMs / 1000, maxRequests: 15 });
      assert.deepEqual(server.arrivals.map((a) => a.path), [...ROUND, ...ROUND, ...ROUND]);
      const gaps = server.arrivals.slice(1).map((a, i) => a.at - server.arrivals[i]!.at);
      const betweenRounds = gaps.filter((_, i) => (i + 1) % ROUND.length === 0);
      const withinRounds = gaps.filter((_, i) => (i + 1) % ROUND.length !== 0);
      assert.ok(betweenRounds.every((gap) => atLeastNominal(gap, pauseMs)), `gaps between rounds: ${betweenRounds.map(Math.round).join(", ")} ms`);
      assert.ok(withinRounds.every((gap) => gap < pauseMs), `gaps within rounds: ${withinRounds.map(Math.round).join(", ")} ms`);
    } finally {
      await server.close();
    }
  });

  it("counts each response under its own request's path when the server closes connections (every 3rd answer)", async () => {
    const server = await recordingServer(0, 3);
    try {
      const summary = await runLoad({ url: server.url, durationSeconds: 30, vus: 1, pauseSeconds: 0, maxRequests: 20 });
      assert.equal(summary.failures, 0);
      assert.deepEqual(summary.byPath, {
        "/": { 200: 4 },
        "/io_task": { 201: 4 },
        "/cpu_task": { 202: 4 },
        "/random_sleep": { 203: 4 },
        "/random_status": { 204: 4 },
      });
      assert.deepEqual(server.arrivals.map((a) => a.path), [...ROUND, ...ROUND, ...ROUND, ...ROUND]);
    } finally {
      await server.close();
    }
  });

  it("--vus 3 keeps three requests in flight at once", async () => {
    const server = await recordingServer(150);
    try {
      const summary = await runLoad({ url: server.url, durationSeconds: 30, vus: 3, pauseSeconds: 0, maxRequests: 15 });
      assert.equal(summary.requests, 15);
      assert.equal(server.maxInFlight(), 3);
    } finally {
      await server.close();
    }
  });

  it("a server that is down: every request counts as failed, and the run still ends at --duration", async () => {
    const server = await recordingServer();
    const { url } = server;
    await server.close();
    const started = performance.now();
    const summary = await runLoad({ url, durationSeconds: 1, vus: 1, pauseSeconds: 0 });
    const tookMs = performance.now() - started;
    // At --duration, and well before a request's 30 s timeout, which a run that waited on the dead server would reach.
    assert.ok(waitedNominal(tookMs, 1000), `took ${tookMs} ms`);
    assert.ok(summary.failures >= 1);
    assert.deepEqual(summary.statuses, { 0: summary.failures });
    assert.equal(summary.requests, summary.failures);
    assert.match(formatSummary(summary), /statuses {3}failed: \d+/);
  });
});
