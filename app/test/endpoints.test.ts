import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { drawStatus } from "../src/routes";
import { get, startApp, type RunningApp } from "./helpers";

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
    const started = Date.now();
    const io = get(`${app.url}/io_task`);
    // While /io_task waits, another request is answered at once.
    const quick = await get(`${app.url}/`);
    const quickMs = Date.now() - started;
    const res = await io;
    const ioMs = Date.now() - started;
    assert.deepEqual(quick, { status: 200, body: "Hello, World!" });
    assert.ok(quickMs < 500, `/ took ${quickMs} ms while /io_task was waiting`);
    assert.deepEqual(res, { status: 200, body: "IO bound task finish!" });
    assert.ok(ioMs >= 2000 && ioMs < 3000, `/io_task took ${ioMs} ms`);
  });

  it("GET /cpu_task answers 200 after real CPU work", async () => {
    assert.deepEqual(await get(`${app.url}/cpu_task`), { status: 200, body: "CPU bound task finish!" });
  });

  it("GET /random_sleep sleeps random x 5 s", async () => {
    draw = 0.1;
    const started = Date.now();
    const res = await get(`${app.url}/random_sleep`);
    const ms = Date.now() - started;
    assert.deepEqual(res, { status: 200, body: "random sleep 500 ms" });
    assert.ok(ms >= 500 && ms < 1500, `took ${ms} ms`);
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
