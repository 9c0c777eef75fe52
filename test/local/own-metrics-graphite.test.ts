/**
 * A team's own metrics in the graphite topology, sent by a real third-party client (jsocol's pystatsd, Debian's
 * python3-statsd 4.0.1, one datagram per call) to two pipelines side by side, on 127.0.0.1:
 *
 * - the program's: Etsy statsd with the generated config -> carbon-cache with the generated carbon.conf, storage
 *   schemas and storage aggregation;
 * - statsd on its defaults (a config that says only where to listen and where carbon is) -> carbon-cache with the
 *   same carbon.conf and schemas (carbon has no default schema; these keep one point per statsd flush) and an empty
 *   storage-aggregation.conf, i.e. carbon's default aggregation.
 *
 * The same calls go to both; the stored points are read back from the whisper files. Both pipelines must store the
 * same values at every flush, the program's timers holding the dashboards' extra percentiles besides; where carbon
 * rolls points up differently the program says why (pipeline/graphite.ts, AGGREGATION_RULES), and this checks that
 * real carbon applies exactly that. statsd flushes every 10 s (the program's setting, which is statsd's default):
 * everything is sent in the first flush interval, the relative gauges in the second, and three flushes are read.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../app/src/tools/wait";
import { aggregationOf, CARBON_DEFAULT_AGGREGATION, PERCENT_THRESHOLDS, statsdConfigJs } from "../../pipeline/graphite";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { startCarbonCache, whisperFile, whisperInfo, whisperPoints, type CarbonCache } from "../../scripts/local/carbon";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup } from "../../scripts/local/processes";
import { requirePystatsd, sendWithPystatsd, type PystatsdCall } from "../../scripts/local/pystatsd";
import { binaries, startStatsdProcess } from "../../scripts/local/stacks";

const missing = [binaries.carbonCache()].find((b) => b.skip)?.skip || requirePystatsd();

/** The client's prefix: every series below is under `team`. */
const PREFIX = "team";
const FLUSHES = 3;

/** Sent in the first flush interval: every type once, sampled counters and timers, a negative gauge. */
const FIRST: readonly PystatsdCall[] = [
  ["incr", "orders"],
  ["incr", "orders"],
  ["incr", "orders"],
  // Sampled at 1 in 4: statsd counts each line 4 times.
  ["incr", "page_views", 1, 0.25],
  ["incr", "page_views", 1, 0.25],
  ["incr", "page_views", 1, 0.25],
  ["incr", "retries.count", 2],
  // Set once, never again: a gauge statsd must keep writing.
  ["gauge", "queue_depth", 42],
  ["gauge", "pool_size", 10],
  // pystatsd sends a negative value as `0|g` then `-7|g`, because statsd reads a leading `-` as a decrement.
  ["gauge", "temperature", -7],
  ["gauge", "jobs.count", 5],
  ["set", "visitors", "alice"],
  ["set", "visitors", "bob"],
  ["set", "visitors", "alice"],
  ["timing", "db_query", 10],
  ["timing", "db_query", 20],
  ["timing", "db_query", 30],
  ["timing", "db_query", 40],
  // Sampled at 1 in 2: each value is counted twice, but enters upper, sum and the percentiles once.
  ["timing", "render", 8, 0.5],
  ["timing", "render", 8, 0.5],
];

/** Sent in the second flush interval, onto the gauge set to 10 in the first: 10 + 5 - 3. */
const SECOND: readonly PystatsdCall[] = [
  ["gauge", "pool_size", 5, { delta: true }],
  ["gauge", "pool_size", -3, { delta: true }],
];

/** What the first three flushes store, on statsd's defaults and with the program's settings alike (null: no point). */
const BOTH: Readonly<Record<string, readonly (number | null)[]>> = {
  // A counter's count per flush, and per second under stats.*; 0 in the flushes without a line (not a gap).
  "stats_counts.team.orders": [3, 0, 0],
  "stats.team.orders": [0.3, 0, 0],
  "stats_counts.team.page_views": [12, 0, 0],
  "stats.team.page_views": [1.2, 0, 0],
  "stats_counts.team.retries.count": [2, 0, 0],
  "stats.team.retries.count": [0.2, 0, 0],
  // A gauge keeps its last value at every flush.
  "stats.gauges.team.queue_depth": [42, 42, 42],
  "stats.gauges.team.pool_size": [10, 12, 12],
  "stats.gauges.team.temperature": [-7, -7, -7],
  "stats.gauges.team.jobs.count": [5, 5, 5],
  // Distinct values per flush.
  "stats.sets.team.visitors.count": [2, 0, 0],
  // An idle timer writes its count (0) and count per second only.
  "stats.timers.team.db_query.count": [4, 0, 0],
  "stats.timers.team.db_query.count_ps": [0.4, 0, 0],
  "stats.timers.team.db_query.lower": [10, null, null],
  "stats.timers.team.db_query.upper": [40, null, null],
  "stats.timers.team.db_query.sum": [100, null, null],
  "stats.timers.team.db_query.sum_squares": [3000, null, null],
  "stats.timers.team.db_query.mean": [25, null, null],
  "stats.timers.team.db_query.median": [25, null, null],
  "stats.timers.team.db_query.std": [Math.sqrt(125), null, null],
  // statsd's default percentThreshold, 90: round(0.9 x 4) = all 4 values.
  "stats.timers.team.db_query.count_90": [4, null, null],
  "stats.timers.team.db_query.mean_90": [25, null, null],
  "stats.timers.team.db_query.upper_90": [40, null, null],
  "stats.timers.team.db_query.sum_90": [100, null, null],
  "stats.timers.team.db_query.sum_squares_90": [3000, null, null],
  "stats.timers.team.render.count": [4, 0, 0],
  "stats.timers.team.render.count_ps": [0.4, 0, 0],
  "stats.timers.team.render.lower": [8, null, null],
  "stats.timers.team.render.upper": [8, null, null],
  "stats.timers.team.render.sum": [16, null, null],
  "stats.timers.team.render.sum_squares": [128, null, null],
  "stats.timers.team.render.mean": [8, null, null],
  "stats.timers.team.render.median": [8, null, null],
  "stats.timers.team.render.std": [0, null, null],
  "stats.timers.team.render.count_90": [2, null, null],
  "stats.timers.team.render.mean_90": [8, null, null],
  "stats.timers.team.render.upper_90": [8, null, null],
  "stats.timers.team.render.sum_90": [16, null, null],
  "stats.timers.team.render.sum_squares_90": [128, null, null],
};

/** What only the program's timers add: the 50th and 99th percentiles the dashboards show (percentThreshold). */
const PROGRAM_ONLY: Readonly<Record<string, readonly (number | null)[]>> = {
  // round(0.5 x 4) = the 2 lowest values; round(0.99 x 4) = all 4.
  "stats.timers.team.db_query.count_50": [2, null, null],
  "stats.timers.team.db_query.mean_50": [15, null, null],
  "stats.timers.team.db_query.upper_50": [20, null, null],
  "stats.timers.team.db_query.sum_50": [30, null, null],
  "stats.timers.team.db_query.sum_squares_50": [500, null, null],
  "stats.timers.team.db_query.count_99": [4, null, null],
  "stats.timers.team.db_query.mean_99": [25, null, null],
  "stats.timers.team.db_query.upper_99": [40, null, null],
  "stats.timers.team.db_query.sum_99": [100, null, null],
  "stats.timers.team.db_query.sum_squares_99": [3000, null, null],
  "stats.timers.team.render.count_50": [1, null, null],
  "stats.timers.team.render.mean_50": [8, null, null],
  "stats.timers.team.render.upper_50": [8, null, null],
  "stats.timers.team.render.sum_50": [8, null, null],
  "stats.timers.team.render.sum_squares_50": [64, null, null],
  "stats.timers.team.render.count_99": [2, null, null],
  "stats.timers.team.render.mean_99": [8, null, null],
  "stats.timers.team.render.upper_99": [8, null, null],
  "stats.timers.team.render.sum_99": [16, null, null],
  "stats.timers.team.render.sum_squares_99": [128, null, null],
};

/** Series statsd writes at every flush whatever its gauge settings: once each holds FLUSHES points, they are stored. */
const EVERY_FLUSH = Object.entries(BOTH).filter(([s, values]) => !s.startsWith("stats.gauges.") && values.every((v) => v !== null)).map(([s]) => s);
/** carbon writes a flush's series one after another: the gauges of the last flush may follow the counts by a moment. */
const WRITTEN_WITHIN_MS = 3000;

interface Pipeline {
  readonly name: string;
  readonly carbon: CarbonCache;
  readonly statsdPort: number;
  /** The first flush's 10 s slot. */
  firstFlush: number;
  /** The datagrams pystatsd sent. */
  sent: string[];
}

/** statsd on its defaults: only where it listens (on loopback) and where carbon is. */
function defaultsConfigJs(args: { graphitePort: number; port: number; mgmtPort: number }): string {
  const config = {
    graphiteHost: "127.0.0.1",
    graphitePort: args.graphitePort,
    port: args.port,
    mgmt_port: args.mgmtPort,
    mgmt_address: "127.0.0.1",
    servers: [{ server: "./servers/udp", address: "127.0.0.1", port: args.port }],
  };
  return `(${JSON.stringify(config, null, 2)})\n`;
}

/** A series' values at the first FLUSHES flushes from `firstFlush`, null where the flush wrote no point. */
function flushValues(carbon: CarbonCache, series: string, firstFlush: number): (number | null)[] {
  const file = whisperFile(carbon.whisperDir, series);
  const bySlot = new Map(existsSync(file) ? whisperPoints(file) : []);
  return Array.from({ length: FLUSHES }, (_, i) => bySlot.get(firstFlush + i * STATSD_FLUSH_SECONDS) ?? null);
}

/** Every series under `team` a carbon has a whisper file for. */
function teamSeries(carbon: CarbonCache): string[] {
  return (readdirSync(carbon.whisperDir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".wsp"))
    .map((f) => f.slice(0, -".wsp".length).split(path.sep).join("."))
    .filter((s) => s.split(".").includes(PREFIX))
    .sort();
}

describe("a team's own metrics through statsd and carbon, sent with pystatsd: the program's settings against the daemons' defaults", { skip: missing }, () => {
  const group = new ProcessGroup();
  let program: Pipeline;
  let defaults: Pipeline;

  before(async () => {
    const [programCarbon, defaultsCarbon] = await Promise.all([startCarbonCache(group), startCarbonCache(group, { storageAggregation: "" })]);
    const [programPort, defaultsPort, programAdmin, defaultsAdmin] = [await freeTcpUdpPort(), await freeTcpUdpPort(), await freeTcpPort(), await freeTcpPort()];
    const programConfig = path.join(programCarbon.dir, "statsd.js");
    writeFileSync(programConfig, statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: programCarbon.linePort, port: programPort, mgmtPort: programAdmin, listenAddress: "127.0.0.1" }));
    const defaultsConfig = path.join(defaultsCarbon.dir, "statsd.js");
    writeFileSync(defaultsConfig, defaultsConfigJs({ graphitePort: defaultsCarbon.linePort, port: defaultsPort, mgmtPort: defaultsAdmin }));

    // statsd stamps its flushes at its start (whole seconds) plus 10 s steps, a second more when a flush runs late.
    // Started in the first 7 s of a 10 s slot, a late stamp stays in its own slot and never overwrites the next.
    await waitFor(() => Date.now() % (STATSD_FLUSH_SECONDS * 1000) < 7000, STATSD_FLUSH_SECONDS * 1000, 50);
    const startedAt = Date.now() / 1000;
    await Promise.all([startStatsdProcess(group, programConfig, programAdmin, "statsd (program)"), startStatsdProcess(group, defaultsConfig, defaultsAdmin, "statsd (defaults)")]);
    program = { name: "program", carbon: programCarbon, statsdPort: programPort, firstFlush: 0, sent: [] };
    defaults = { name: "defaults", carbon: defaultsCarbon, statsdPort: defaultsPort, firstFlush: 0, sent: [] };
    const pipelines = [program, defaults];

    await Promise.all(pipelines.map(async (p) => p.sent.push(...(await sendWithPystatsd(p.statsdPort, PREFIX, FIRST)))));
    const firstSentBy = Date.now() / 1000;
    assert.ok(firstSentBy - startedAt < STATSD_FLUSH_SECONDS - 2, `the first calls took until ${(firstSentBy - startedAt).toFixed(1)} s after statsd started: they may straddle its first flush`);

    // The first flush has reached carbon when the counter has a point: then the second flush interval is on.
    const firstFlush = (p: Pipeline) => whisperPoints(whisperFile(p.carbon.whisperDir, "stats_counts.team.orders"))[0]?.[0];
    const flushed = await waitFor(() => pipelines.every((p) => firstFlush(p) !== undefined), 2 * STATSD_FLUSH_SECONDS * 1000, 100);
    assert.ok(flushed, `no first flush reached carbon within ${2 * STATSD_FLUSH_SECONDS} s\n${program.carbon.proc.output()}`);
    for (const p of pipelines) p.firstFlush = firstFlush(p)!;
    await Promise.all(pipelines.map(async (p) => p.sent.push(...(await sendWithPystatsd(p.statsdPort, PREFIX, SECOND)))));
    // statsd's second flush is due at the first one's stamp + 10 s (whole seconds, so up to 0.5 s earlier).
    const secondSentBy = Date.now() / 1000;
    for (const p of pipelines) {
      assert.ok(secondSentBy < p.firstFlush + STATSD_FLUSH_SECONDS - 1, `${p.name}: the second calls were sent at ${secondSentBy}, too close to the second flush (${p.firstFlush + STATSD_FLUSH_SECONDS})`);
    }

    const stored = await waitFor(
      () => pipelines.every((p) => EVERY_FLUSH.every((s) => flushValues(p.carbon, s, p.firstFlush).every((v) => v !== null))),
      (FLUSHES + 1) * STATSD_FLUSH_SECONDS * 1000,
      250,
    );
    assert.ok(stored, `carbon did not store ${FLUSHES} flushes of every series within ${(FLUSHES + 1) * STATSD_FLUSH_SECONDS} s`);
    const gauges = Object.keys(BOTH).filter((s) => s.startsWith("stats.gauges."));
    await waitFor(() => pipelines.every((p) => gauges.every((s) => flushValues(p.carbon, s, p.firstFlush).every((v) => v !== null))), WRITTEN_WITHIN_MS, 100);
  });
  after(() => group.stopAll());

  it("pystatsd sends one datagram per call: sampled lines carry their rate, relative gauges their sign, a negative gauge 0 first", () => {
    for (const p of [program, defaults]) {
      assert.deepEqual(p.sent.filter((d) => /page_views|temperature|pool_size|render/.test(d)), [
        "team.page_views:1|c|@0.25",
        "team.page_views:1|c|@0.25",
        "team.page_views:1|c|@0.25",
        "team.pool_size:10|g",
        "team.temperature:0|g\nteam.temperature:-7|g",
        "team.render:8.000000|ms|@0.5",
        "team.render:8.000000|ms|@0.5",
        "team.pool_size:+5|g",
        "team.pool_size:-3|g",
      ]);
      assert.equal(p.sent.length, FIRST.length + SECOND.length);
    }
  });

  it("statsd on its defaults stores exactly these values at each of three flushes", () => {
    const actual = Object.fromEntries(Object.keys(BOTH).map((s) => [s, flushValues(defaults.carbon, s, defaults.firstFlush)]));
    assert.deepEqual(actual, BOTH);
  });

  it("the program's settings store the same values at every flush, and nothing else but the 50th and 99th percentiles of each timer", () => {
    const expected = { ...BOTH, ...PROGRAM_ONLY };
    const actual = Object.fromEntries(Object.keys(expected).map((s) => [s, flushValues(program.carbon, s, program.firstFlush)]));
    assert.deepEqual(actual, expected);
    assert.deepEqual(PERCENT_THRESHOLDS, [50, 90, 99]);
    assert.deepEqual(teamSeries(program.carbon), Object.keys(expected).sort());
    assert.deepEqual(teamSeries(defaults.carbon), Object.keys(BOTH).sort());
  });

  it("a gauge set once keeps its value at every later flush (42 three times), and +5 then -3 a flush later add to it (10, then 12)", () => {
    for (const p of [program, defaults]) {
      assert.deepEqual(flushValues(p.carbon, "stats.gauges.team.queue_depth", p.firstFlush), [42, 42, 42], p.name);
      assert.deepEqual(flushValues(p.carbon, "stats.gauges.team.pool_size", p.firstFlush), [10, 12, 12], p.name);
    }
  });

  it("carbon on its defaults averages every series with xFilesFactor 0.5; the program's carbon applies exactly AGGREGATION_RULES", () => {
    const applied = (carbon: CarbonCache) =>
      Object.fromEntries(teamSeries(carbon).map((s) => {
        const { aggregationMethod, xFilesFactor } = whisperInfo(whisperFile(carbon.whisperDir, s));
        return [s, { method: aggregationMethod, xFilesFactor }];
      }));
    assert.deepEqual(applied(defaults.carbon), Object.fromEntries(Object.keys(BOTH).sort().map((s) => [s, CARBON_DEFAULT_AGGREGATION])));
    const programApplied = applied(program.carbon);
    assert.deepEqual(programApplied, Object.fromEntries(Object.keys(programApplied).map((s) => [s, aggregationOf(s)])));
    // The deliberate differences, each kind once: counts summed, a timer's extremes kept, a name ending in a timer
    // field's (a gauge jobs.count, a counter's rate retries.count) averaged as carbon would.
    const pick = (...series: string[]) => Object.fromEntries(series.map((s) => [s, programApplied[s]?.method]));
    assert.deepEqual(
      pick("stats_counts.team.page_views", "stats.team.page_views", "stats.timers.team.db_query.count", "stats.timers.team.db_query.upper_99", "stats.timers.team.db_query.lower", "stats.timers.team.db_query.mean", "stats.gauges.team.jobs.count", "stats.team.retries.count", "stats.sets.team.visitors.count"),
      {
        "stats_counts.team.page_views": "sum",
        "stats.team.page_views": "average",
        "stats.timers.team.db_query.count": "sum",
        "stats.timers.team.db_query.upper_99": "max",
        "stats.timers.team.db_query.lower": "min",
        "stats.timers.team.db_query.mean": "average",
        "stats.gauges.team.jobs.count": "average",
        "stats.team.retries.count": "average",
        "stats.sets.team.visitors.count": "average",
      },
    );
  });

  it("the program's minute archive: the gauge jobs.count reads its value 5, and the sampled counter's minutes add up to 12", () => {
    const minutes = (series: string) => whisperPoints(whisperFile(program.carbon.whisperDir, series), 1).map(([, v]) => v);
    const gauge = minutes("stats.gauges.team.jobs.count");
    assert.ok(gauge.length >= 1, "no minute point for the gauge");
    assert.deepEqual([...new Set(gauge)], [5]);
    assert.equal(minutes("stats_counts.team.page_views").reduce((a, b) => a + b, 0), 12);
  });
});
