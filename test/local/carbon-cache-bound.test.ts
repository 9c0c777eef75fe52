/**
 * What a burst beyond carbon's cache bound does, on the real carbon-cache (Debian's graphite-carbon, whose cache code
 * is the image's 1.1.10's) on 127.0.0.1, with the program's carbon.conf: only the bound is made small (1,000 points,
 * so a burst fills it in a second) and the whisper writer slow (10 updates/s, so the burst outruns it for certain;
 * the program's 500/s may keep up with a burst this small). Flow control is off, as the program sets it: carbon
 * keeps reading, stores what fits, and drops and counts the rest. About 30 s.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../app/src/tools/wait";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { sendPlaintext, startCarbonCache, whisperFile, whisperPoints, type CarbonCache } from "../../scripts/local/carbon";
import { ProcessGroup } from "../../scripts/local/processes";
import { binaries } from "../../scripts/local/stacks";

const BOUND = 1000;
const SERIES = 20;
const POINTS = 1000;
const SENT = SERIES * POINTS;
/** Points carbon puts in its cache for each report on itself (cache.size, metricsReceived, cpuUsage, ...), at most. */
const SELF_METRICS_PER_REPORT = 21;

/** The self-metrics this file checks in the report that follows the burst. */
const SELF_METRICS = ["metricsReceived", "cache.overflow", "droppedCreates"] as const;
type SelfMetric = (typeof SELF_METRICS)[number];

const missing = binaries.carbonCache().skip || false;

describe("carbon's cache bound: a burst beyond it", { skip: missing }, () => {
  const group = new ProcessGroup();
  let carbon: CarbonCache;
  let burstReport: number;
  /** carbon's first report on itself after the burst, as read once (see `before`). */
  let report: Record<SelfMetric, number>;
  let dropped: number;
  let droppedBefore: number;
  const names = Array.from({ length: SERIES }, (_, s) => `stats_counts.burst.route_${s}.GET.200`);
  // One point per flush interval for each series, the newest a flush ago, all within the finest archive (6 h).
  const now = Math.floor(Date.now() / 1000 / STATSD_FLUSH_SECONDS) * STATSD_FLUSH_SECONDS;
  const timestamps = new Set(Array.from({ length: POINTS }, (_, p) => now - (p + 1) * STATSD_FLUSH_SECONDS));

  /** The burst's points in the whisper files (each sent with value 1): [points, sum of values]. */
  const stored = (): [number, number] => {
    let [points, sum] = [0, 0];
    for (const name of names) {
      const file = whisperFile(carbon.whisperDir, name);
      if (!existsSync(file)) continue;
      for (const [t, v] of whisperPoints(file)) if (timestamps.has(t)) [points, sum] = [points + 1, sum + v];
    }
    return [points, sum];
  };

  before(async () => {
    carbon = await startCarbonCache(group, { maxCacheSize: BOUND, maxUpdatesPerSecond: 10 });
    // carbon's reports on itself go through the same cache: right after one, the next is 10 s away, so no report
    // finds the cache full (it would be dropped and its lines counted as the burst's).
    burstReport = await carbon.nextReport(30);
    droppedBefore = carbon.cacheFullLines();
    const lines = [...timestamps].sort((a, b) => a - b).flatMap((t) => names.map((name) => `${name} 1 ${t}`));
    await sendPlaintext(carbon.linePort, lines);
    dropped = carbon.cacheFullLines() - droppedBefore;
    // Bounded waits: the writer empties the cache (~20 series and carbon's own at 10 updates/s), then the next
    // report, with the burst's counts, is written.
    await waitFor(() => stored()[0] + dropped >= SENT, 30_000, 250);
    // Read the report once, when all of it is there: carbon's writer pops a metric from its cache before it writes the
    // file, so a read of file and cache can miss a point in between; a retry finds it, a later re-read could miss it.
    const firstAfterBurst = async (name: SelfMetric) => (await carbon.selfMetric(name)).find(([t]) => t > burstReport)?.[1];
    const complete = await waitFor(async () => {
      const values = await Promise.all(SELF_METRICS.map(firstAfterBurst));
      if (values.some((v) => v === undefined)) return false;
      report = Object.fromEntries(SELF_METRICS.map((name, i) => [name, values[i]])) as Record<SelfMetric, number>;
      return true;
    }, 30_000, 250);
    assert.ok(complete, `carbon's report after the burst lacks one of ${SELF_METRICS.join(", ")} after 30 s`);
  });
  after(async () => {
    await group.stopAll();
    if (carbon) rmSync(carbon.dir, { recursive: true, force: true });
  });

  it("runs the program's carbon.conf with the bound and without flow control", () => {
    assert.match(carbon.conf, /^MAX_CACHE_SIZE = 1000$/m);
    assert.match(carbon.conf, /^USE_FLOW_CONTROL = False$/m);
    assert.equal(droppedBefore, 0);
  });

  it("carbon read every point of the burst: its next report counts 20,000 received", () => {
    assert.equal(report.metricsReceived, SENT);
  });

  it("drops what does not fit: most of the burst, since 1,000 points fit and the writer empties 10 series a second", () => {
    assert.ok(dropped > SENT / 2, `${dropped} of ${SENT} dropped`);
  });

  it("every point is either written or dropped and counted: written + dropped = sent", (t) => {
    const [points, sum] = stored();
    t.diagnostic(`burst of ${SENT} points into a ${BOUND}-point cache: ${points} written, ${dropped} dropped`);
    assert.equal(points + dropped, SENT, `${points} written + ${dropped} dropped`);
    assert.equal(sum, points);
  });

  it("what entered the cache is all written: a full cache's worth at least (less carbon's own report), nothing lost to the create limit", () => {
    assert.ok(stored()[0] >= BOUND - SELF_METRICS_PER_REPORT, `${stored()[0]} written`);
    assert.equal(report.droppedCreates, 0);
  });

  it("carbon's own counter, carbon.agents.*.cache.overflow, counts exactly the points dropped", () => {
    assert.equal(report["cache.overflow"], dropped);
  });
});
