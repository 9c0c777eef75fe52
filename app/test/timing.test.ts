import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { atLeastNominal, LOADED_MACHINE_LATENESS_MS, TIMER_GRANULARITY_MS, waitedNominal } from "./helpers";

describe("timing assertions allow for timer granularity", () => {
  it("the granularity allowed is 1 ms: Node's event loop clock counts whole milliseconds", () => {
    assert.equal(TIMER_GRANULARITY_MS, 1);
  });

  it("a 2,000 ms wait measured at 1999.945 ms counts as at least nominal (CI's failure under `>= 2000`)", () => {
    assert.equal(atLeastNominal(1999.945, 2000), true);
  });

  it("a wait exactly one granularity short (1999 ms for 2,000) counts; any shorter (1998.999 ms) does not", () => {
    assert.deepEqual([atLeastNominal(1999, 2000), atLeastNominal(1998.999, 2000)], [true, false]);
  });

  it("a wait 10 ms short (1990 ms for 2,000) does not count", () => {
    assert.equal(atLeastNominal(1990, 2000), false);
  });

  it(`waitedNominal accepts up to ${LOADED_MACHINE_LATENESS_MS} ms late and rejects from there`, () => {
    assert.equal(LOADED_MACHINE_LATENESS_MS, 8000);
    assert.deepEqual([waitedNominal(1999.945, 2000), waitedNominal(9999.9, 2000), waitedNominal(10_000, 2000), waitedNominal(1990, 2000)], [true, true, false, false]);
  });

  it("real timers of 1 to 20 ms, measured with performance.now(), are all at least nominal by this rule", async () => {
    const short: string[] = [];
    for (let i = 0; i < 100; i++) {
      const nominal = 1 + (i % 20);
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, nominal));
      const elapsed = performance.now() - started;
      if (!atLeastNominal(elapsed, nominal)) short.push(`${elapsed.toFixed(3)} ms for ${nominal} ms`);
    }
    assert.deepEqual(short, []);
  });
});
