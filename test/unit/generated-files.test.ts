import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { generatedFiles } from "../../scripts/generated-files";

describe("checked-in generated files", () => {
  for (const [file, content] of Object.entries(generatedFiles())) {
    it(`${file} is up to date (npm run generate)`, () => {
      assert.equal(readFileSync(path.join(__dirname, "..", "..", file), "utf8"), content);
    });
  }

  it("kind forwards both topologies' NodePorts to 127.0.0.1 at their stacks' host ports, StatsD as UDP", () => {
    const cluster = parse(generatedFiles()["kind/cluster.yaml"]!);
    assert.deepEqual(
      cluster.nodes[0].extraPortMappings.map((m: any) => `${m.listenAddress}:${m.hostPort}/${m.protocol}<-${m.containerPort}`),
      [
        "127.0.0.1:8000/TCP<-30800",
        "127.0.0.1:3000/TCP<-30300",
        "127.0.0.1:8080/TCP<-30080",
        "127.0.0.1:8125/UDP<-30125",
        "127.0.0.1:8100/TCP<-30801",
        "127.0.0.1:3001/TCP<-30301",
        "127.0.0.1:9090/TCP<-30090",
        "127.0.0.1:9093/TCP<-30093",
        "127.0.0.1:9102/TCP<-30102",
        "127.0.0.1:9125/UDP<-30925",
      ],
    );
  });
});
