/** The loss a restart may cause, as the Docker tier's fault cases bound it (scripts/checks/faults.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HELD_SECONDS, lossBound, type FaultCaseResult } from "../../scripts/checks/faults";

/** A case of one request every 100 ms from t = 0 for 30 s, restarted at 10 s and healthy again at 18 s. */
const result = (restart?: { at: number; back: number }): FaultCaseResult => ({
  service: restart ? "statsd-exporter" : "none",
  sent: 300,
  ok: 300,
  counted: 300,
  downSeconds: restart ? (restart.back - restart.at) / 1000 : 0,
  restartAtMs: restart?.at,
  backAtMs: restart?.back,
  sentAtMs: Array.from({ length: 300 }, (_, i) => i * 100),
  historyBefore: 0,
  historyAfter: 0,
});

describe("a restart's loss bound", () => {
  it("holds what the receiving service had in memory: statsd a 10 s flush window, statsd_exporter a 5 s scrape interval", () => {
    assert.deepEqual(HELD_SECONDS, { graphite: 10, exporter: 5 });
  });

  it("counts the requests sent from that window (and 1 s for the app to answer) before the restart until it was healthy again", () => {
    const restarted = result({ at: 10_000, back: 18_000 });
    // exporter: from 4 s to 18 s inclusive, every 100 ms: 141 requests; graphite: from 0 s, 181.
    assert.deepEqual([lossBound(restarted, "exporter"), lossBound(restarted, "graphite")], [141, 181]);
  });

  it("is 0 when nothing was restarted", () => {
    assert.equal(lossBound(result(), "graphite"), 0);
  });
});
