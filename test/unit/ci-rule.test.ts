/**
 * The rule for a test that needs a missing tool: on a laptop it skips with a visible reason; under CI it fails, never
 * skips. "Under CI" is any CI value but unset, "", "0" and "false": CI systems set CI=true, CI=1 or CI=yes.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { requireBinary, underCi } from "../../scripts/local/binaries";

const NO_SUCH_TOOL = "statsd-stack-no-such-tool";

describe("what counts as CI", () => {
  for (const value of ["1", "true", "yes", "TRUE", "woodpecker"]) {
    it(`CI=${value} counts as CI`, () => {
      assert.equal(underCi({ CI: value }), true);
    });
  }

  it("CI unset does not count as CI", () => {
    assert.equal(underCi({}), false);
  });

  for (const value of ["", "0", "false", "False", " false "]) {
    it(`CI=${JSON.stringify(value)} does not count as CI`, () => {
      assert.equal(underCi({ CI: value }), false);
    });
  }
});

describe("a missing tool", () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.CI;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it("under CI=1 fails with the reason (it used to skip: only CI=true counted)", () => {
    process.env.CI = "1";
    assert.throws(() => requireBinary(NO_SUCH_TOOL, "apt-get install it"), {
      message: `CI=1 and ${NO_SUCH_TOOL} not found (install: apt-get install it)`,
    });
  });

  it("under CI=true fails with the reason", () => {
    process.env.CI = "true";
    assert.throws(() => requireBinary(NO_SUCH_TOOL, "apt-get install it"), {
      message: `CI=true and ${NO_SUCH_TOOL} not found (install: apt-get install it)`,
    });
  });

  it("with CI unset skips, the reason shown", () => {
    delete process.env.CI;
    assert.deepEqual(requireBinary(NO_SUCH_TOOL, "apt-get install it"), {
      path: "",
      skip: `${NO_SUCH_TOOL} not found (install: apt-get install it)`,
    });
  });

  it("with CI=false skips, the reason shown", () => {
    process.env.CI = "false";
    assert.deepEqual(requireBinary(NO_SUCH_TOOL, "apt-get install it"), {
      path: "",
      skip: `${NO_SUCH_TOOL} not found (install: apt-get install it)`,
    });
  });
});
