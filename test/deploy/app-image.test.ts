/**
 * The app image, built from app/Dockerfile by a real Docker engine and run as the program runs it: as uid 1000 on a
 * read-only root filesystem with nothing but a small /tmp. The base image (node:22-bookworm-slim) is pulled on a
 * user's machine; where nothing can be pulled, test/images/build.sh makes a local one under that name.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { APP_DIR, appImageTag } from "../../components/platform/local-image";
import { dockerSkip } from "../support/deployment";
import { docker } from "../support/docker";
import { freeTcpPort } from "../../scripts/local/processes";
import { waitFor } from "../../app/src/tools/wait";

const IMAGE = `statsd-stack-test/sample-api:${appImageTag()}`;

/** The base image node:22-bookworm-slim is pulled on a user's machine; here test/images/build.sh makes it. */
const skip = dockerSkip("the app image test", ["node:22-bookworm-slim"]);

describe("app image, built and run by Docker", { skip }, () => {
  let container = "";
  let port = 0;

  before(async () => {
    await docker("build", "--quiet", "--tag", IMAGE, APP_DIR);
    port = await freeTcpPort();
    container = (
      await docker(
        "run", "--detach", "--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,size=16m", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges:true", "--publish", `127.0.0.1:${port}:8000`,
        "--env", "STATSD_HOST=127.0.0.1", IMAGE,
      )
    ).trim();
  });

  after(async () => {
    if (container) await docker("rm", "--force", container).catch(() => undefined);
    await docker("image", "rm", IMAGE).catch(() => undefined);
  });

  it("runs as the numeric non-root user 1000, so Kubernetes can verify runAsNonRoot", async () => {
    assert.equal((await docker("image", "inspect", "--format", "{{.Config.User}}", IMAGE)).trim(), "1000:1000");
  });

  it("holds the compiled server and only the production dependency hot-shots, not the dev tools", async () => {
    // Installed packages are the folders with a package.json (npm prune leaves the emptied scope folders).
    const manifests = await docker("run", "--rm", "--entrypoint", "find", IMAGE, "/app/node_modules", "-mindepth", "2", "-maxdepth", "3", "-name", "package.json");
    assert.deepEqual(manifests.split("\n").filter((n) => n !== "").sort(), ["/app/node_modules/hot-shots/package.json"]);
    const files = await docker("run", "--rm", "--entrypoint", "sh", IMAGE, "-c", "test -f /app/dist/main.js && echo main; test -e /app/dist/tools && echo tools; true");
    assert.equal(files.trim(), "main");
  });

  it("serves /healthz on a read-only root filesystem and passes its own HEALTHCHECK", async () => {
    assert.ok(await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 20_000, 250), "no /healthz");
    assert.ok(
      await waitFor(async () => (await docker("inspect", "--format", "{{.State.Health.Status}}", container)).trim() === "healthy", 60_000, 1000),
      "the HEALTHCHECK never reported healthy",
    );
  });

  it("writes nothing outside /tmp, and nothing there either", async () => {
    assert.equal((await docker("diff", container)).trim(), "");
    assert.equal((await docker("exec", container, "sh", "-c", "ls -A /tmp | wc -l")).trim(), "0");
  });

  it("stops on docker stop (SIGTERM) with exit code 0", async () => {
    await docker("stop", "--time", "20", container);
    assert.equal((await docker("inspect", "--format", "{{.State.ExitCode}}", container)).trim(), "0");
  });
});
