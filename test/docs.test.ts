/** README's configuration reference is checked against the keys Pulumi.yaml declares. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { DEFAULT_IMAGES } from "../components/config";

const root = path.join(__dirname, "..");
const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
const readme = readFileSync(path.join(root, "README.md"), "utf8");

describe("configuration reference", () => {
  it("README's configuration table names every key Pulumi.yaml declares, and no other", () => {
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Architecture"));
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((k) => k[1]!)));
    documented.delete("Key");
    assert.deepEqual([...documented].sort(), Object.keys(project.config).sort());
  });

  it("Pulumi.yaml's image defaults are the program's pinned images", () => {
    for (const [key, image] of Object.entries(DEFAULT_IMAGES)) assert.equal(project.config[key].default, image, key);
  });
});
