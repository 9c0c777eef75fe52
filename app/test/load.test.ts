import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { formatSummary, runLoad } from "../src/tools/load";
import { startApp, type RunningApp } from "./helpers";

describe("load command", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp({ METRICS_ENABLED: "false" }, { random: () => 0 });
  });
  after(() => app.stop());

  it("GETs the five endpoints in turn and counts every response by path and status", async () => {
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
    assert.ok(summary.latencyMs.p99 >= 2000, `p99 ${summary.latencyMs.p99} should include /io_task's 2 s`);
    assert.match(formatSummary(summary), /^requests {3}10 in [\d.]+ s \([\d.]+\/s\)\nstatuses {3}200: 10\nlatency {4}p50 /);
  });
});
