/** `npm run smoke`: the end-to-end checks as a command, run here on a local exporter stack (see e2e-exporter). */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { binaries, startExporterStack, type ExporterStack } from "../../scripts/local/stacks";
import { ProcessGroup, runCommand, type CommandResult } from "../../scripts/local/processes";

const ROOT = path.join(__dirname, "..", "..");
const missing = [binaries.statsdExporter(), binaries.prometheus()].find((b) => b.skip)?.skip || false;

/** Runs scripts/smoke.ts with `args`; PATH holds only Node's directory, so no pulumi CLI is found. */
function smoke(args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "smoke.ts"), ...args], {
    cwd: ROOT,
    env: { PATH: path.dirname(process.execPath), HOME: os.tmpdir() },
    timeoutMs: 120_000,
  });
}

describe("npm run smoke", () => {
  it("without the pulumi CLI, says so and exits 2", async () => {
    const { code, stderr } = await smoke(["--stack", "exporter"]);
    assert.equal(code, 2);
    assert.equal(stderr.split("\n")[0], "smoke: cannot read the outputs of stack exporter: the pulumi CLI is not on PATH");
  });

  it("with outputs that name no known topology, says which output is wrong and exits 2", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "smoke-")), "outputs.json");
    writeFileSync(file, JSON.stringify({ topology: "influx", apiUrl: "http://127.0.0.1:1" }));
    const { code, stderr } = await smoke(["--outputs", file]);
    assert.equal(code, 2);
    assert.equal(stderr.split("\n")[0], 'smoke: output topology = "influx" is not valid: expected graphite or exporter');
  });
});

describe("npm run smoke on a running exporter stack", { skip: missing }, () => {
  const group = new ProcessGroup();
  let stack: ExporterStack;
  let outputsFile: string;
  before(async () => {
    stack = await startExporterStack(group);
    outputsFile = path.join(mkdtempSync(path.join(os.tmpdir(), "smoke-")), "outputs.json");
    writeFileSync(
      outputsFile,
      JSON.stringify({
        topology: "exporter",
        appName: "sample-api",
        metricPrefix: "sample_api",
        apiUrl: stack.apiUrl,
        prometheusUrl: stack.prometheusUrl,
        exporterMetricsUrl: stack.exporterMetricsUrl,
      }),
    );
  });
  after(() => group.stopAll());

  it("proves the stack and exits 0", async () => {
    const { code, stdout, stderr } = await smoke(["--outputs", outputsFile, "--requests", "100", "--vus", "5"]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^requests sent {6}110$/m);
    assert.equal(stdout.trim().split("\n").at(-1), "smoke: exporter stack proven end to end");
  });
});
