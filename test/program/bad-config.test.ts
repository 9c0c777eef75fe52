/** A bad configuration stops the program before any resource is registered (Pulumi's mocks stand in for the engine). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadProgramExpectingFailure } from "../support/program";

describe("bad configuration", () => {
  it("fails with a Pulumi RunError listing every problem, and registers no resource", async () => {
    const { error, registered } = await loadProgramExpectingFailure("demo", { topology: "graphite", platform: "swarm", apiPort: "0" });
    assert.ok(error instanceof pulumi.RunError, String(error));
    assert.equal(
      (error as Error).message,
      "invalid stack configuration (2 problems):\n" +
        '  - statsd-stack:platform = "swarm" is not valid: expected one of docker, kubernetes\n' +
        '  - statsd-stack:apiPort = "0" is not valid: expected an integer from 1 to 65535',
    );
    assert.equal(registered, 0);
  });
});
