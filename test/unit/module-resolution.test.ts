/**
 * Pulumi runs the program with its bundled ts-node and Node's own (CommonJS) resolution, which tries `.js`, `.json`
 * and `.node` before `.ts`: a data file beside a module of the same name is loaded instead of the module (tsx, which
 * the tests use, resolves the `.ts` file and would not notice). No module of the program may be shadowed.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const root = path.join(__dirname, "..", "..");
const SHADOWING = [".js", ".json", ".node"];

/** Every file under `dir`, repository-relative, skipping dependencies. */
function files(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : files(rel);
    return [rel];
  });
}

describe("module resolution under Pulumi's ts-node", () => {
  it("no .js, .json or .node file sits beside a .ts module of the same name", () => {
    const all = new Set(["index.ts", ...files("components"), ...files("dashboards"), ...files("app/src")]);
    const shadowed = [...all]
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => SHADOWING.map((ext) => f.replace(/\.ts$/, ext)).filter((other) => all.has(other)));
    assert.deepEqual(shadowed, []);
  });
});
