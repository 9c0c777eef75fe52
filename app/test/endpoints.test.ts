import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { drawStatus, IO_TASK_MS, RANDOM_SLEEP_MAX_MS } from "../src/routes";
import { get, startApp, waitedNominal, type RunningApp } from "./helpers";

describe("endpoints", () => {
  let app: RunningApp;
  let draw = 0;
  before(async () => {
    app = await startApp({ METRICS_ENABLED: "false" }, { random: () => draw });
  });
  after(() => app.stop());

  it("GET / answers 200 Hello, World!", async () => {
    assert.deepEqual(await get(`${app.url}/`), { status: 200, body: "Hello, World!" });
  });

  it("GET /io_task waits 2 s without blocking the event loop", async () => {
    const answered: string[] = [];
    const started = performance.now();
    const io = get(`${app.url}/io_task`).then((res) => (answered.push("/io_task"), res));
    // Once /io_task is waiting, another request is answered before it: a handler that blocked would answer it after.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const quick = await get(`${app.url}/`).then((res) => (answered.push("/"), res));
    const res = await io;
    const ioMs = performance.now() - started;
    assert.deepEqual(quick, { status: 200, body: "Hello, World!" });
    assert.deepEqual(answered, ["/", "/io_task"]);
    assert.deepEqual(res, { status: 200, body: "IO bound task finish!" });
    assert.ok(waitedNominal(ioMs, IO_TASK_MS), `/io_task took ${ioMs} ms`);
  });

  it("GET /cpu_task answers 200 after real CPU work", async () => {
    assert.deepEqual(await get(`${app.url}/cpu_task`), { status: 200, body: "CPU bound task finish!" });
  });

  it("GET /random_sleep sleeps random x 5 s", async () => {
    draw = 0.1;
    const started = performance.now();
    const res = await get(`${app.url}/random_sleep`);
    const ms = performance.now() - started;
    assert.deepEqual(res, { status: 200, body: "random sleep 500 ms" });
    assert.ok(waitedNominal(ms, 0.1 * RANDOM_SLEEP_MAX_MS), `took ${ms} ms`);
  });

  it("GET /random_status answers each status of the tutorial's distribution", async () => {
    const seen: Array<[number, string]> = [];
    for (const u of [0, 0.55, 0.65, 0.75, 0.95]) {
      draw = u;
      const res = await get(`${app.url}/random_status`);
      seen.push([res.status, res.body]);
    }
    assert.deepEqual(seen, [
      [200, "random status 200"],
      [200, "random status 200"],
      [300, "random status 300"],
      [400, "random status 400"],
      [500, "random status 500"],
    ]);
  });

  it("drawStatus weighs 200 x6, 300, 400 x2, 500 over ten equal slices", () => {
    const statuses = Array.from({ length: 10 }, (_, i) => drawStatus((i + 0.5) / 10));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 300, 400, 400, 500]);
  });

  it("an unknown path answers 404", async () => {
    assert.deepEqual(await get(`${app.url}/no/such/page?x=1`), { status: 404, body: "Not Found" });
  });

  it("a known path with a method other than GET or HEAD answers 405", async () => {
    const res = await fetch(`${app.url}/`, { method: "POST" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
  });

  it("GET /healthz answers 200 ok", async () => {
    assert.deepEqual(await get(`${app.url}/healthz`), { status: 200, body: "ok" });
  });
});
