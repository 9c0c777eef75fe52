/** README's configuration reference is checked against the keys Pulumi.yaml declares. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { DEFAULT_IMAGES, STRUCTURED_CONFIG_KEYS } from "../../pipeline/config-keys";
import { defaultHostPort, PORTS, publishedPorts, stackHostPort, type PortId } from "../../pipeline/ports";
import { TOPOLOGIES } from "../../pipeline/topologies";

const root = path.join(__dirname, "..", "..");
const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
const readme = readFileSync(path.join(root, "README.md"), "utf8");

describe("configuration reference", () => {
  it("README's configuration table names every key Pulumi.yaml declares and every structured key, and no other", () => {
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Architecture"));
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((k) => k[1]!)));
    documented.delete("Key");
    assert.deepEqual([...documented].sort(), [...Object.keys(project.config), ...Object.keys(STRUCTURED_CONFIG_KEYS)].sort());
  });

  it("Pulumi.yaml's image defaults are the program's pinned images", () => {
    for (const [key, image] of Object.entries(DEFAULT_IMAGES)) assert.equal(project.config[key].default, image, key);
  });

  it("Pulumi.yaml's port defaults are the port table's, and each repository stack's file gives its topology's ports", () => {
    for (const id of Object.keys(PORTS) as PortId[]) assert.equal(project.config[PORTS[id].configKey].default, defaultHostPort(id), id);
    for (const topology of TOPOLOGIES) {
      const file = parse(readFileSync(path.join(root, `Pulumi.${topology}.yaml`), "utf8")).config as Record<string, string>;
      const effective = (id: PortId) => Number(file[`statsd-stack:${PORTS[id].configKey}`] ?? defaultHostPort(id));
      for (const id of publishedPorts(topology)) assert.equal(effective(id), stackHostPort(id, topology), `${topology} ${id}`);
    }
  });

  it("the two repository stacks publish no host port twice, so both run on one machine", () => {
    const bound = TOPOLOGIES.flatMap((topology) => publishedPorts(topology).map((id) => `${stackHostPort(id, topology)}/${PORTS[id].protocol}`));
    assert.equal(new Set(bound).size, bound.length, bound.join(" "));
  });
});
