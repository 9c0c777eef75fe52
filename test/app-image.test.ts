/**
 * The sample API's image. There is no Docker engine where these tests run, so `docker build` and `docker run` are
 * replayed: the context is what .dockerignore lets through, each stage's COPY/RUN/ENV run in a folder standing for
 * its WORKDIR, and the runtime stage's CMD and HEALTHCHECK run as written. What this cannot check is the base image
 * itself and the USER switch (the process runs as the test's user; the user is checked in the Dockerfile instead).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { copyContext, envPairs, execForm, parseDockerfile, type Stage } from "./support/dockerfile";
import { freeTcpPort, ProcessGroup } from "./support/processes";

const APP_DIR = path.join(__dirname, "..", "app");
const stages = parseDockerfile(readFileSync(path.join(APP_DIR, "Dockerfile"), "utf8"));
const [buildStage, runtimeStage] = stages as [Stage, Stage];
const WORKDIR = "/app";

const args = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const only = (stage: Stage, keyword: string) => {
  const found = args(stage, keyword);
  assert.equal(found.length, 1, `${keyword} in stage ${stage.name ?? stage.from}: ${found.length}`);
  return found[0]!;
};

/** Every file under `dir` with its size and modification time: a fingerprint that any write changes. */
function fingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      const stat = statSync(path.join(dir, child));
      out.push(`${child} ${stat.size} ${stat.mtimeMs}`);
      if (entry.isDirectory()) walk(child);
    }
  };
  walk("");
  return out.sort();
}

/** The packages in a node_modules folder (scoped ones as `@scope/name`); empty scope folders do not count. */
function installedPackages(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) => (name.startsWith("@") ? readdirSync(path.join(dir, name)).map((inner) => `${name}/${inner}`) : [name]))
    .filter((name) => existsSync(path.join(dir, name, "package.json")))
    .sort();
}

/** Node 22 (this test's own runtime) first on PATH, as in the node:22 base image. */
const PATH = [path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter);

/**
 * The environment a RUN step sees: this process's, without what `npm test` adds (npm_config_local_prefix and the
 * like), which would point a nested npm at this repository instead of the stage's folder.
 */
function buildEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== "INIT_CWD"));
}

/**
 * Replays one stage in `root` (standing for its WORKDIR). COPY takes paths from the context, or with --from=<stage>
 * from that stage's folder; RUN goes through `sh -c`. Anything else that changes files fails loudly, so a Dockerfile
 * change cannot slip past an incomplete replay.
 */
function replay(stage: Stage, root: string, context: string, stageRoots: Record<string, string>): Record<string, string> {
  mkdirSync(root, { recursive: true });
  const env: Record<string, string> = {};
  for (const { keyword, args: line } of stage.instructions) {
    switch (keyword) {
      case "WORKDIR":
        assert.equal(line, WORKDIR);
        break;
      case "ENV":
        Object.assign(env, envPairs(line));
        break;
      case "COPY": {
        const words = line.split(/\s+/);
        const from = words[0]!.startsWith("--from=") ? words.shift()!.slice("--from=".length) : undefined;
        const dest = words.pop()!;
        for (const source of words) {
          const origin = from === undefined ? path.join(context, source) : path.join(stageRoots[from]!, path.relative(WORKDIR, source));
          const target = dest.endsWith("/") ? path.join(root, dest, path.basename(source)) : path.join(root, dest);
          cpSync(origin, target, { recursive: true });
        }
        break;
      }
      case "RUN":
        execFileSync("sh", ["-c", line], { cwd: root, env: { ...buildEnvironment(), PATH, ...env }, stdio: "pipe" });
        break;
      case "USER":
      case "EXPOSE":
      case "HEALTHCHECK":
      case "STOPSIGNAL":
      case "CMD":
        break; // metadata: checked by the tests below
      default:
        throw new Error(`the replay does not know ${keyword}`);
    }
  }
  return env;
}

describe("app image (Dockerfile and .dockerignore, replayed without a Docker engine)", () => {
  it("has a build stage and a runtime stage, both on the official Node 22 LTS image", () => {
    assert.equal(stages.length, 2);
    assert.equal(buildStage.name, "build");
    assert.deepEqual(stages.map((s) => s.from), ["node:22-bookworm-slim", "node:22-bookworm-slim"]);
  });

  it("the runtime stage runs as the numeric non-root user 1000, so Kubernetes can verify runAsNonRoot", () => {
    assert.equal(only(runtimeStage, "USER"), "1000:1000");
  });

  it("the runtime stage copies only package.json, the pruned node_modules and dist from the build stage", () => {
    assert.deepEqual(args(runtimeStage, "COPY"), [
      "--from=build /app/package.json ./package.json",
      "--from=build /app/node_modules ./node_modules",
      "--from=build /app/dist ./dist",
    ]);
  });

  it("the health check asks /healthz on the container's PORT", () => {
    const healthcheck = only(runtimeStage, "HEALTHCHECK");
    assert.match(healthcheck, /^--interval=10s --timeout=3s --start-period=5s --retries=3\s+CMD \[/);
    assert.match(healthcheck, /\/healthz/);
  });

  it(".dockerignore keeps node_modules, build output, tests and the dev tools out of the context", () => {
    const context = mkdtempSync(path.join(os.tmpdir(), "image-context-"));
    try {
      const files = copyContext(APP_DIR, context);
      for (const needed of ["package.json", "package-lock.json", "tsconfig.json", "src/main.ts", "src/server.ts"]) {
        assert.ok(files.includes(needed), `${needed} missing from the context`);
      }
      const leaked = files.filter((f) => /^(node_modules|dist|test|bench|src\/tools)\/|\.md$/.test(f));
      assert.deepEqual(leaked, []);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });

  describe("built and run", () => {
    let work: string;
    let runtimeRoot: string;
    let runtimeEnv: Record<string, string>;
    before(() => {
      work = mkdtempSync(path.join(os.tmpdir(), "image-build-"));
      const context = path.join(work, "context");
      copyContext(APP_DIR, context);
      const buildRoot = path.join(work, "build");
      replay(buildStage, buildRoot, context, {});
      runtimeRoot = path.join(work, "runtime");
      runtimeEnv = replay(runtimeStage, runtimeRoot, context, { build: buildRoot });
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("the build stage compiles the server and prunes to production dependencies only", () => {
      assert.ok(existsSync(path.join(runtimeRoot, "dist", "main.js")));
      assert.equal(existsSync(path.join(runtimeRoot, "dist", "tools")), false, "dev tools are not in the image");
      assert.deepEqual(installedPackages(path.join(runtimeRoot, "node_modules")), ["hot-shots"]);
    });

    it("the runtime stage's CMD serves /healthz, passes the HEALTHCHECK, writes nothing, and exits 0 on SIGTERM", async () => {
      assert.equal(only(runtimeStage, "STOPSIGNAL"), "SIGTERM");
      assert.deepEqual(runtimeEnv, { NODE_ENV: "production", PORT: "8000" });
      const port = String(await freeTcpPort());
      // A fresh HOME and TMPDIR: with a read-only root filesystem there is nowhere else to write, so both stay empty.
      const scratch = path.join(work, "scratch");
      mkdirSync(path.join(scratch, "home"), { recursive: true });
      mkdirSync(path.join(scratch, "tmp"));
      const env = { PATH, HOME: path.join(scratch, "home"), TMPDIR: path.join(scratch, "tmp"), ...runtimeEnv, PORT: port };
      const before = fingerprint(runtimeRoot);

      const [command, ...commandArgs] = execForm(only(runtimeStage, "CMD"));
      const processes = new ProcessGroup();
      const app = processes.start("app image", command!, commandArgs, { cwd: runtimeRoot, env });
      const exited = new Promise<number | null>((resolve) => app.child.once("exit", (code) => resolve(code)));
      try {
        const healthz = `http://127.0.0.1:${port}/healthz`;
        await processes.waitHttp(app, healthz, 15_000);
        assert.equal((await fetch(healthz)).status, 200);

        const [probe, ...probeArgs] = execForm(only(runtimeStage, "HEALTHCHECK").replace(/^.*?\sCMD\s+/, ""));
        assert.equal(spawnSync(probe!, probeArgs, { cwd: runtimeRoot, env, stdio: "ignore" }).status, 0, "HEALTHCHECK exit code");

        app.child.kill("SIGTERM");
        assert.equal(await exited, 0, app.output());
      } finally {
        await processes.stopAll();
      }
      assert.deepEqual(fingerprint(runtimeRoot), before, "the app wrote into its image");
      assert.deepEqual(readdirSync(path.join(scratch, "home")), []);
      assert.deepEqual(readdirSync(path.join(scratch, "tmp")), []);
    });
  });
});
