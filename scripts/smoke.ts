/**
 * Proves a deployed stack end to end with the same checks the end-to-end tests run on local processes:
 *
 *   npm run smoke -- --stack exporter            (reads `pulumi stack output --json --stack exporter`)
 *   npm run smoke -- --outputs outputs.json      (outputs saved earlier, e.g. on a machine without the CLI)
 *
 * Sends a known load (by default 200 requests from 10 virtual users over the five endpoints, about 20 s, plus 10
 * unknown paths), waits until the backend has counted exactly that load, runs every query of the dashboard, and
 * prints what it found. Run it on an otherwise idle stack: traffic from elsewhere during the run would be counted
 * too. Exit code 0 when proven, 1 when not, 2 on bad usage.
 */
import { parseArgs } from "node:util";
import { readStackOutputs } from "./checks/stack-outputs";
import { asObject } from "./checks/traffic";
import { problems, verifyExporterStack, verifyGraphiteStack, type StackVerification } from "./checks/verify-stack";

function usage(message: string): never {
  console.error(`smoke: ${message}\nusage: npm run smoke -- (--stack NAME | --outputs FILE) [--requests N] [--vus N]`);
  process.exit(2);
}

function readOutputs(stack: string | undefined, file: string | undefined): Record<string, unknown> {
  if (file) return readStackOutputs(undefined, file);
  try {
    return readStackOutputs(stack);
  } catch (err) {
    usage(`cannot read the outputs of stack ${stack}: ${(err as Error).message}`);
  }
}

function text(outputs: Record<string, unknown>, key: string): string {
  const value = outputs[key];
  if (typeof value !== "string" || value === "") usage(`the stack has no output ${key}; is it deployed (pulumi up)?`);
  return value;
}

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) usage(`--${name}=${raw} is not valid: expected a whole number >= 1`);
  return n;
}

function report(v: StackVerification): void {
  console.log(`requests sent      ${v.load.total}`);
  console.log(`counted by route, method and status   ${JSON.stringify(asObject(v.counted))}`);
  for (const p of v.panels) console.log(`panel ${p.ok ? "ok  " : "FAIL"} ${p.panel} ${p.refId} (${p.detail})`);
  for (const p of v.healthPanels) console.log(`pipeline health panel ${p.ok ? "ok  " : "FAIL"} ${p.panel} ${p.refId} (${p.detail})`);
  console.log(`variable values    ${v.variable.join(", ") || "(none)"}`);
  if (v.losses) console.log(`exporter losses    ${JSON.stringify(v.losses)}`);
  console.log(`first result after ${v.firstResultSeconds === undefined ? "(none)" : `${v.firstResultSeconds.toFixed(1)} s`}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      outputs: { type: "string" },
      requests: { type: "string", default: "200" },
      vus: { type: "string", default: "10" },
    },
  });
  if (!values.stack && !values.outputs) usage("give --stack or --outputs");
  const outputs = readOutputs(values.stack, values.outputs);
  const options = { requests: positiveInt("requests", values.requests), vus: positiveInt("vus", values.vus), unknownPaths: 10 };
  const appName = typeof outputs.appName === "string" ? outputs.appName : undefined;
  const metricPrefix = typeof outputs.metricPrefix === "string" ? outputs.metricPrefix : undefined;
  const topology = text(outputs, "topology");

  let result: StackVerification;
  let expectedVariable: string;
  if (topology === "exporter") {
    result = await verifyExporterStack(
      { apiUrl: text(outputs, "apiUrl"), prometheusUrl: text(outputs, "prometheusUrl"), exporterMetricsUrl: text(outputs, "exporterMetricsUrl") },
      { ...options, appName },
    );
    expectedVariable = appName ?? "sample-api";
  } else if (topology === "graphite") {
    result = await verifyGraphiteStack({ apiUrl: text(outputs, "apiUrl"), graphiteUrl: text(outputs, "graphiteUrl") }, { ...options, metricPrefix });
    expectedVariable = metricPrefix ?? "sample_api";
  } else {
    usage(`output topology = ${JSON.stringify(topology)} is not valid: expected graphite or exporter`);
  }
  report(result);
  const found = problems(result, expectedVariable);
  for (const p of found) console.log(`problem: ${p}`);
  console.log(found.length === 0 ? `smoke: ${topology} stack proven end to end` : `smoke: ${found.length} problem(s)`);
  process.exitCode = found.length === 0 ? 0 : 1;
}

void main().catch((err: unknown) => {
  console.error(`smoke: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
