/**
 * The Pulumi program on the Docker platform, under Pulumi's mocks (no Docker engine or Pulumi engine here): the
 * resources it would create, how they are wired, and what they expose.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ofType } from "../support/graph";
import { runProgram } from "../support/program";

const CONTAINER = "docker:index/container:Container";

describe("docker platform, settings", () => {
  it("bindAddress and host ports move every published port", async () => {
    const run = await runProgram("exporter", { topology: "exporter", bindAddress: "0.0.0.0", apiPort: "18000", appReplicas: "2" });
    const api = ofType(run, CONTAINER).filter((c) => c.name.includes("api"));
    assert.deepEqual(
      api.map((c) => [c.inputs.name, c.inputs.ports[0].ip, c.inputs.ports[0].external]),
      [
        ["statsd-stack-exporter-sample-api-0", "0.0.0.0", 18000],
        ["statsd-stack-exporter-sample-api-1", "0.0.0.0", 18001],
      ],
    );
  });
});
