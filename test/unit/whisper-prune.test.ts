import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prunedNamesKept, whisperPruneScript } from "../../pipeline/whisper-prune";

const script = (pruneAfter: string, metricPrefix = "sample_api") => whisperPruneScript({ whisperDir: "/opt/graphite/storage/whisper/", pruneAfter, metricPrefix });
const setting = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];

describe("the whisper prune service's run script (graphiteOwnMetricsPruneAfter)", () => {
  it("keeps the catalog's names under the app's prefix and statsd's own", () => {
    assert.deepEqual(prunedNamesKept("shop"), ["shop.http_request_duration_ms", "shop.http_requests", "shop.app_info", "statsd"]);
  });

  it("looks in carbon's data folder (the trailing / dropped), hourly", () => {
    assert.deepEqual([setting(script("168h"), "DIR"), setting(script("168h"), "INTERVAL")], ["/opt/graphite/storage/whisper", "3600"]);
  });

  it("turns the age into find's minutes, rounded up, so that no file younger than it goes", () => {
    assert.deepEqual([script("168h"), script("1h"), script("1h0m1s"), script("90m")].map((s) => setting(s, "MINUTES")), ["10080", "60", "61", "90"]);
  });

  it("exempts each kept name's file and the names under it, in every folder statsd writes to, and carbon's own", () => {
    const text = script("168h", "shop");
    for (const root of ["", "stats/", "stats_counts/", "stats/timers/", "stats/gauges/", "stats/sets/"]) {
      assert.ok(text.includes(`-path "$DIR/${root}shop/http_requests.wsp"`), root);
      assert.ok(text.includes(`-path "$DIR/${root}shop/http_requests/*"`), root);
      assert.ok(text.includes(`-path "$DIR/${root}statsd/*"`), root);
    }
    assert.ok(text.includes(`-path "$DIR/carbon/*"`));
    assert.equal(text.match(/-path /g)?.length, 2 * (1 + 6 * 4));
  });

  it("refuses an age under an hour or not a duration, and a prefix a find pattern would read as a wildcard", () => {
    assert.throws(() => script("59m"), { message: 'not a prune age of at least 3600 s: "59m"' });
    assert.throws(() => script("0s"), { message: 'not a prune age of at least 3600 s: "0s"' });
    assert.throws(() => script("7d"), { message: 'not a prune age of at least 3600 s: "7d"' });
    assert.throws(() => script("168h", "shop*"), { message: 'not a path the prune script can match literally: "shop*/http_request_duration_ms"' });
  });
});
