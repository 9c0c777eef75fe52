import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatMilliseconds, packTimerLines } from "../src/metrics/packing";

describe("packed timer lines", () => {
  it("a value is milliseconds rounded to the microsecond, in its shortest form", () => {
    assert.deepEqual(
      [0.1234, 2001.0005, 0.0004, 3, 0.5, 0.05, 0.005, 1.25, 0.06, 0.012, -1].map(formatMilliseconds),
      ["0.123", "2001.001", "0", "3", "0.5", "0.05", "0.005", "1.25", "0.06", "0.012", "0"],
    );
  });

  it("a value is the same text as printing the rounded number, for 100,000 random durations up to 10 s", () => {
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 100_000; i++) {
      const ms = random() * 10 ** Math.floor(random() * 5); // 0-1 ms up to 0-10,000 ms
      assert.equal(formatMilliseconds(ms), String(Math.round(ms * 1000) / 1000), `for ${ms}`);
    }
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
