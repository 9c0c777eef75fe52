/**
 * carbon's cache bound: sized from the graphite-statsd container's memory limit by one formula, written into the
 * generated carbon.conf, with flow control off. The real carbon-cache's behaviour at the bound is tested in
 * test/local/carbon-cache-bound.test.ts; the figures behind the formula come from `npm run bench:carbon-cache`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GRAPHITE_RESOURCES } from "../../components/graphite-statsd";
import {
  CARBON_CACHE_BYTES_PER_POINT,
  carbonConf,
  carbonMaxCacheSize,
  GRAPHITE_MEMORY_BESIDE_CACHE_MIB,
  GRAPHITE_MEMORY_HEADROOM_MIB,
  GRAPHITE_MEMORY_LIMIT_MIB,
  MAX_CACHE_SIZE,
  type CarbonConfArgs,
} from "../../pipeline/graphite";

const ARGS: CarbonConfArgs = {
  storageDir: "/opt/graphite/storage",
  listenAddress: "0.0.0.0",
  linePort: 2003,
  picklePort: 2004,
  cacheQueryPort: 7002,
  graphiteUrl: "http://127.0.0.1:8080",
};

/** A carbon.conf setting's value, as carbon reads `KEY = value`. */
function setting(conf: string, key: string): string {
  const values = [...conf.matchAll(new RegExp(`^${key} = (.*)$`, "gm"))].map((m) => m[1]!);
  assert.equal(values.length, 1, `${key} is set ${values.length} times`);
  return values[0]!;
}

/** A Kubernetes memory quantity in MiB (the workload's limits are written in Mi). */
function mebibytes(quantity: string): number {
  const match = /^(\d+)Mi$/.exec(quantity);
  assert.ok(match, `${quantity} is not in Mi`);
  return Number(match[1]);
}

describe("carbon's cache bound", () => {
  it("the graphite-statsd workload's memory limit is the one the bound is sized from: 768Mi", () => {
    assert.equal(GRAPHITE_RESOURCES.memoryLimit, "768Mi");
    assert.equal(mebibytes(GRAPHITE_RESOURCES.memoryLimit), GRAPHITE_MEMORY_LIMIT_MIB);
  });

  it("is (limit - what else the container holds) / bytes per cached point: (768 - 363) MiB / 1,000 bytes = 424,673 points", () => {
    assert.deepEqual(GRAPHITE_MEMORY_BESIDE_CACHE_MIB, { carbon: 48, graphiteWeb: 171, statsd: 120, other: 24 });
    assert.equal(GRAPHITE_MEMORY_HEADROOM_MIB, 363);
    assert.equal(CARBON_CACHE_BYTES_PER_POINT, 1000);
    assert.equal(carbonMaxCacheSize(mebibytes(GRAPHITE_RESOURCES.memoryLimit)), 424_673);
    assert.equal(MAX_CACHE_SIZE, 424_673);
  });

  it("the generated carbon.conf bounds the cache at that many points: finite, not carbon's default inf", () => {
    const conf = carbonConf(ARGS);
    assert.equal(setting(conf, "MAX_CACHE_SIZE"), "424673");
    assert.ok(Number.isFinite(Number(setting(conf, "MAX_CACHE_SIZE"))));
    assert.doesNotMatch(conf, /= inf$/m);
  });

  it("grows and shrinks with the limit, and refuses a limit that leaves no room for the cache", () => {
    assert.equal(carbonMaxCacheSize(1024), Math.floor(((1024 - 363) * 1024 * 1024) / 1000));
    assert.equal(carbonMaxCacheSize(364), 1048);
    assert.throws(() => carbonMaxCacheSize(363), /a memory limit of 363 MiB leaves no room for carbon's cache beside the other 363 MiB/);
  });

  it("drops points that find the cache full rather than pausing statsd's connection: flow control off", () => {
    assert.equal(setting(carbonConf(ARGS), "USE_FLOW_CONTROL"), "False");
  });

  it("a test's override changes the bound and the update rate only, and must be a whole number from 1", () => {
    const base = carbonConf(ARGS).split("\n");
    const small = carbonConf({ ...ARGS, maxCacheSize: 1000, maxUpdatesPerSecond: 10 }).split("\n");
    assert.deepEqual(
      small.filter((line, i) => line !== base[i]),
      ["MAX_CACHE_SIZE = 1000", "MAX_UPDATES_PER_SECOND = 10"],
    );
    assert.equal(setting(carbonConf(ARGS), "MAX_UPDATES_PER_SECOND"), "500");
    assert.throws(() => carbonConf({ ...ARGS, maxCacheSize: 0 }), /carbon\.conf: maxCacheSize = 0 is not valid: expected a whole number from 1/);
    assert.throws(() => carbonConf({ ...ARGS, maxCacheSize: Infinity }), /maxCacheSize = Infinity is not valid/);
    assert.throws(() => carbonConf({ ...ARGS, maxUpdatesPerSecond: 2.5 }), /maxUpdatesPerSecond = 2.5 is not valid/);
  });
});
