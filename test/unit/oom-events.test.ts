/** How the deploy tests and bench:faults read an OOM kill from Docker: the `docker events` they run and what counts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dockerOomEventsArgs, sawOomEvent } from "../../scripts/checks/oom";

describe("Docker's oom events as proof of a kill", () => {
  it("lists only the container's oom events, by action, between the two epochs", () => {
    assert.deepEqual(dockerOomEventsArgs("statsd-stack-graphite-prometheus-0", 1_800_000_000, 1_800_000_060), [
      "events",
      "--since",
      "1800000000",
      "--until",
      "1800000060",
      "--filter",
      "container=statsd-stack-graphite-prometheus-0",
      "--filter",
      "event=oom",
      "--format",
      "{{.Action}}",
    ]);
  });

  it("counts one oom event or several as a kill, and no event as none", () => {
    assert.deepEqual(["oom\n", "oom\noom\n", "", "\n"].map(sawOomEvent), [true, true, false, false]);
  });
});
