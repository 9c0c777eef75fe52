/**
 * A failure's cause comes first: a failed `pulumi up` prints its whole preview before its error, and CI logs that are
 * read from their ends (or cut in the middle) lost the error once. A failed run's message leads with how it ended
 * and Pulumi's diagnostics; a failed CI run ends with the failing tests and the first lines of their errors.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failureReport } from "../../scripts/local/processes";
import { failures } from "../support/failure-digest";

const PREVIEW = Array.from({ length: 200 }, (_, i) => ` +  docker:index/container:Container c${i} create`).join("\n");
const FAILED_UP = `Previewing update (graphite):\n${PREVIEW}\n\nDiagnostics:\n  docker:index/container:Container (pipeline-graphite-0):\n    error: container exited unexpectedly\n\n  pulumi:pulumi:Stack (statsd-stack-graphite):\n    error: update failed\n\nResources:\n    + 24 created\n\nDuration: 1m2s\n`;

describe("a failed run's report", () => {
  it("leads with the exit code and time, then Pulumi's Diagnostics section, then stderr", () => {
    const report = failureReport({ code: 255, stdout: FAILED_UP, stderr: "warning: a plugin\n", seconds: 61.6 });
    assert.deepEqual(report.split("\n").slice(0, 10), [
      "exited 255 after 62 s",
      "Diagnostics:",
      "  docker:index/container:Container (pipeline-graphite-0):",
      "    error: container exited unexpectedly",
      "",
      "  pulumi:pulumi:Stack (statsd-stack-graphite):",
      "    error: update failed",
      "-- stderr --",
      "warning: a plugin",
      "-- stdout, last 80 lines --",
    ]);
  });

  it("keeps only the last 80 lines of stdout, so the preview does not bury the error", () => {
    const report = failureReport({ code: 255, stdout: FAILED_UP, stderr: "", seconds: 1 });
    const tail = report.split("-- stdout, last 80 lines --\n")[1]!.split("\n");
    assert.equal(tail.length, 80 - 1); // the trailing newline's empty line is trimmed
    assert.equal(tail.at(-1), "Duration: 1m2s");
  });

  it("says when the run was killed for outlasting its time limit", () => {
    const report = failureReport({ code: null, stdout: "", stderr: "", seconds: 600.2, timedOut: true });
    assert.equal(report.split("\n")[0], "was killed after 600 s (its time limit)");
  });
});

const TAP = `TAP version 13
# Subtest: deployment on Docker
    # Subtest: graphite stack
        # Subtest: pulumi up succeeds
        not ok 1 - pulumi up succeeds
          ---
          duration_ms: 8.2
          type: 'test'
          failureType: 'testCodeFailure'
          error: |-
            exited 255 after 62 s
            Diagnostics:
              error: update failed
          code: 'ERR_ASSERTION'
          ...
        # Subtest: counts a line
        not ok 2 - counts a line
          ---
          duration_ms: 1.0
          type: 'test'
          failureType: 'testCodeFailure'
          error: 'Cannot read properties of undefined'
          ...
        1..2
    not ok 1 - graphite stack
      ---
      duration_ms: 9.0
      type: 'suite'
      failureType: 'subtestsFailed'
      error: '2 subtests failed'
      ...
    # Subtest: passes
    ok 2 - passes
      ---
      duration_ms: 1.0
      ...
`;

describe("a failed CI run's digest", () => {
  it("names each failed test with the first lines of its error, block or quoted, and leaves out the suites that failed because of them", () => {
    assert.deepEqual(failures(TAP, 25), [
      { name: "pulumi up succeeds", error: ["exited 255 after 62 s", "Diagnostics:", "  error: update failed"] },
      { name: "counts a line", error: ["Cannot read properties of undefined"] },
    ]);
  });

  it("keeps at most the number of error lines asked for", () => {
    assert.deepEqual(failures(TAP, 2)[0]!.error, ["exited 255 after 62 s", "Diagnostics:"]);
  });
});
