/**
 * The checked-in k6 script. k6 itself is not run (it is AGPL-licensed and not installed here): the script file is
 * imported as it is, with stand-ins for the `k6` and `k6/http` modules that record what it asks of them.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { DEFAULT_PAUSE_SECONDS, ROUND } from "../../app/src/tools/round";

type Call = [name: string, ...args: unknown[]];
const globals = globalThis as unknown as { __ENV: Record<string, string>; __k6calls: Call[] };

/** The script in a folder whose node_modules/k6 records each call into `globalThis.__k6calls`. */
function stage(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "k6-script-"));
  const k6 = path.join(dir, "node_modules", "k6");
  mkdirSync(k6, { recursive: true });
  writeFileSync(
    path.join(k6, "package.json"),
    JSON.stringify({ name: "k6", type: "module", exports: { ".": "./index.js", "./http": "./http.js" } }),
  );
  writeFileSync(path.join(k6, "index.js"), "export const sleep = (s) => globalThis.__k6calls.push(['sleep', s]);\n");
  writeFileSync(
    path.join(k6, "http.js"),
    "export default { get: (url, params) => globalThis.__k6calls.push(['get', url, params]) };\n",
  );
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  cpSync(path.join(__dirname, "..", "..", "load", "k6-script.js"), path.join(dir, "script.js"));
  return dir;
}

/** One iteration of the script's default function, with `env` as k6's `__ENV`. */
async function iterate(dir: string, env: Record<string, string>, copy: string): Promise<Call[]> {
  globals.__ENV = env;
  globals.__k6calls = [];
  // A fresh file per import: the script reads __ENV when it is loaded, and modules are cached by URL.
  cpSync(path.join(dir, "script.js"), path.join(dir, copy));
  const script = (await import(pathToFileURL(path.join(dir, copy)).href)) as { default: () => void };
  script.default();
  return globals.__k6calls;
}

describe("k6 script (load/k6-script.js, with k6's modules stood in for)", () => {
  const dir = stage();
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("one iteration GETs the load command's endpoints in its order, each tagged by path, then sleeps the pause", async () => {
    const calls = await iterate(dir, {}, "default.js");
    assert.deepEqual(calls, [
      ...ROUND.map((p) => ["get", `http://127.0.0.1:8000${p}`, { tags: { name: p } }]),
      ["sleep", DEFAULT_PAUSE_SECONDS],
    ]);
  });

  it("API_URL sets the target, with or without a trailing slash", async () => {
    const calls = await iterate(dir, { API_URL: "http://127.0.0.1:18000/" }, "api-url.js");
    assert.deepEqual(
      calls.filter(([name]) => name === "get").map(([, url]) => url),
      ROUND.map((p) => `http://127.0.0.1:18000${p}`),
    );
  });
});
