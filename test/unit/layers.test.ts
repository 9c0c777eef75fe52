/**
 * Dependencies point one way: the metric catalog (app/src/metrics) <- pipeline/ (pure generators) <- dashboards/
 * (pure) <- components/ (Pulumi components) <- index.ts. scripts/ use the pure layers and the app, never the
 * components or the tests. Read from every module's imports.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const ROOT = path.join(__dirname, "..", "..");

/** Which repository folders (or files) a module in each layer may import from, besides packages. */
const ALLOWED: ReadonlyArray<[layer: string, mayImport: readonly string[], packagesAllowed: boolean]> = [
  ["app/src/", ["app/src/"], true],
  ["pipeline/", ["app/src/metrics/", "pipeline/"], true],
  ["dashboards/", ["app/src/metrics/", "pipeline/", "dashboards/"], true],
  ["components/", ["app/src/metrics/", "pipeline/", "dashboards/", "components/"], true],
  ["index.ts", ["components/"], true],
  ["scripts/", ["app/", "pipeline/", "dashboards/", "scripts/"], true],
];

/** Packages that make a module a Pulumi program: the pure layers must not use them. */
const PULUMI = /^@pulumi\//;
const PURE_LAYERS = ["pipeline/", "dashboards/"];

/** Repository-relative imports of a module and the packages it uses. */
function importsOf(file: string, source: string): { local: string[]; packages: string[] } {
  const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|^import\s+)["']([^"']+)["']/gm)].map((m) => m[1]!);
  const local = specifiers.filter((s) => s.startsWith(".")).map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
  const packages = specifiers.filter((s) => !s.startsWith(".") && !s.startsWith("node:"));
  return { local, packages };
}

/** The imports of `file` that run against the layer order, as readable lines. */
function layerViolations(file: string, source: string): string[] {
  const rule = ALLOWED.find(([layer]) => file === layer || file.startsWith(layer));
  if (!rule) return [];
  const [layer, mayImport] = rule;
  const { local, packages } = importsOf(file, source);
  const problems = local
    .filter((target) => !mayImport.some((allowed) => target === allowed.replace(/\/$/, "") || target.startsWith(allowed)))
    .map((target) => `${file} imports ${target}: ${layer} may import only ${mayImport.join(", ")}`);
  if (PURE_LAYERS.includes(layer)) {
    problems.push(...packages.filter((p) => PULUMI.test(p)).map((p) => `${file} imports ${p}: ${layer} is pure (no Pulumi)`));
  }
  return problems;
}

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : tsFiles(rel);
    return entry.name.endsWith(".ts") ? [rel] : [];
  });
}

describe("layers", () => {
  it("no module imports against the layer order", () => {
    const files = ["index.ts", ...["app/src", "pipeline", "dashboards", "components", "scripts"].flatMap(tsFiles)];
    assert.ok(files.length > 40, `read ${files.length} modules`);
    const problems = files.flatMap((file) => layerViolations(file, readFileSync(path.join(ROOT, file), "utf8")));
    assert.deepEqual(problems, []);
  });

  it("flags a dashboard importing a component, a script importing a test helper, and Pulumi in the pure layers", () => {
    assert.deepEqual(layerViolations("dashboards/graphite.ts", 'import { x } from "../components/platform/workload";'), [
      "dashboards/graphite.ts imports components/platform/workload: dashboards/ may import only app/src/metrics/, pipeline/, dashboards/",
    ]);
    assert.deepEqual(layerViolations("scripts/bench-pipeline.ts", 'import { startApp } from "../test/support/local-stacks";'), [
      "scripts/bench-pipeline.ts imports test/support/local-stacks: scripts/ may import only app/, pipeline/, dashboards/, scripts/",
    ]);
    assert.deepEqual(layerViolations("pipeline/ports.ts", 'import * as pulumi from "@pulumi/pulumi";'), [
      "pipeline/ports.ts imports @pulumi/pulumi: pipeline/ is pure (no Pulumi)",
    ]);
  });

  it("lets a component import the pure layers and the catalog", () => {
    const source = ['import { graphiteDashboard } from "../dashboards/graphite";', 'import { PORTS } from "../pipeline/ports";', 'import { catalog } from "../app/src/metrics/catalog";'].join("\n");
    assert.deepEqual(layerViolations("components/grafana.ts", source), []);
  });
});
