import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatMilliseconds, packTimerLines } from "../src/metrics/packing";

describe("packed timer lines", () => {
  it("a value is milliseconds rounded to the microsecond", () => {
    assert.deepEqual([0.1234, 2001.0005, 0.0004, 3].map(formatMilliseconds), ["0.123", "2001.001", "0", "3"]);
  });

  it("dogstatsd style packs values after one name: name:v1:v2|ms", () => {
    assert.deepEqual(packTimerLines("p.t", [1.5, 2, 0.25], "dogstatsd", 100), ["p.t:1.5:2:0.25|ms"]);
  });

  it("graphite style repeats the type after each value: name:v1|ms:v2|ms", () => {
    assert.deepEqual(packTimerLines("p.t", [1.5, 2, 0.25], "graphite", 100), ["p.t:1.5|ms:2|ms:0.25|ms"]);
  });

  it("values that would pass the byte budget start a new line, and none is lost", () => {
    // "1.5:2.5" is 7 bytes; one more ":3.5" would make 11.
    assert.deepEqual(packTimerLines("p.t", [1.5, 2.5, 3.5, 4.5, 5.5], "dogstatsd", 10), [
      "p.t:1.5:2.5|ms",
      "p.t:3.5:4.5|ms",
      "p.t:5.5|ms",
    ]);
  });

  it("a value longer than the budget still goes out, alone on its line", () => {
    assert.deepEqual(packTimerLines("p.t", [12345.678, 1], "graphite", 4), ["p.t:12345.678|ms", "p.t:1|ms"]);
  });

  it("no values, no lines", () => {
    assert.deepEqual(packTimerLines("p.t", [], "dogstatsd", 100), []);
  });
});
