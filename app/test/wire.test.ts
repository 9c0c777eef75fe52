import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { get, startApp, udpCapture, waitFor, type RunningApp, type UdpCapture } from "./helpers";

/** Splits `name:value|type|#tags` into its parts. */
function parse(line: string) {
  const match = /^([^:]+):([^|]+)\|([a-z]+)(?:\|#(.*))?$/.exec(line);
  assert.ok(match, `not a StatsD line: ${line}`);
  return { name: match[1]!, value: Number(match[2]), type: match[3]!, tags: match[4] };
}

describe("StatsD lines on the wire", () => {
  let statsd: UdpCapture;
  let app: RunningApp;
  afterEach(async () => {
    await app.stop();
    await statsd.close();
  });

  async function start(style: string, random = () => 0.95) {
    statsd = await udpCapture();
    app = await startApp(
      { METRICS_STYLE: style, STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsd.port) },
      { random },
    );
  }

  it("graphite style: the info gauge carries app name and version in the name", async () => {
    await start("graphite");
    assert.ok(await waitFor(() => statsd.lines.length >= 1));
    assert.deepEqual(statsd.lines, ["sample_api.app_info.sample-api.1_2_3:1|g"]);
  });

  it("graphite style: a 500 from /random_status is a timer in ms and a counter with route, method, status", async () => {
    await start("graphite");
    assert.equal((await get(`${app.url}/random_status`)).status, 500);
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const [timer, counter] = statsd.lines.slice(1).map(parse);
    assert.deepEqual({ ...timer, value: undefined }, {
      name: "sample_api.http_request_duration_ms.random_status.GET.500",
      value: undefined,
      type: "ms",
      tags: undefined,
    });
    assert.ok(timer!.value > 0 && timer!.value < 1000, `timer value ${timer!.value} is not milliseconds`);
    assert.deepEqual(counter, { name: "sample_api.http_requests.random_status.GET.500", value: 1, type: "c", tags: undefined });
  });

  it("graphite style: / is the segment root and unknown paths share the segment unmatched", async () => {
    await start("graphite");
    await get(`${app.url}/`);
    await get(`${app.url}/a/b c`);
    assert.ok(await waitFor(() => statsd.lines.length >= 5));
    assert.deepEqual(
      statsd.lines.slice(1).map((l) => parse(l).name),
      [
        "sample_api.http_request_duration_ms.root.GET.200",
        "sample_api.http_requests.root.GET.200",
        "sample_api.http_request_duration_ms.unmatched.GET.404",
        "sample_api.http_requests.unmatched.GET.404",
      ],
    );
  });

  it("dogstatsd style: the same measurements carry app_name, route, method and status tags", async () => {
    await start("dogstatsd");
    assert.equal((await get(`${app.url}/random_status`)).status, 500);
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const [info, timer, counter] = statsd.lines.map(parse);
    assert.deepEqual(info, { name: "sample_api.app_info", value: 1, type: "g", tags: "app_name:sample-api,version:1.2.3" });
    assert.equal(timer!.name, "sample_api.http_request_duration_ms");
    assert.equal(timer!.type, "ms");
    assert.equal(timer!.tags, "app_name:sample-api,route:/random_status,method:GET,status:500");
    assert.deepEqual(counter, {
      name: "sample_api.http_requests",
      value: 1,
      type: "c",
      tags: "app_name:sample-api,route:/random_status,method:GET,status:500",
    });
  });

  it("dogstatsd style: /io_task's timer value is its duration in milliseconds", async () => {
    await start("dogstatsd");
    await get(`${app.url}/io_task`);
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const timer = parse(statsd.lines[1]!);
    assert.ok(timer.value >= 2000 && timer.value < 2500, `io_task timer ${timer.value}`);
  });

  it("METRIC_PREFIX and APP_NAME change the prefix and the app_name tag", async () => {
    statsd = await udpCapture();
    app = await startApp({
      METRICS_STYLE: "dogstatsd",
      STATSD_HOST: "127.0.0.1",
      STATSD_PORT: String(statsd.port),
      METRIC_PREFIX: "shop",
      APP_NAME: "checkout",
    });
    assert.ok(await waitFor(() => statsd.lines.length >= 1));
    assert.deepEqual(statsd.lines, ["shop.app_info:1|g|#app_name:checkout,version:1.2.3"]);
  });

  it("/healthz sends nothing", async () => {
    await start("dogstatsd");
    assert.ok(await waitFor(() => statsd.lines.length >= 1));
    for (let i = 0; i < 5; i++) await get(`${app.url}/healthz`);
    app.recorder.sendInfo();
    assert.ok(await waitFor(() => statsd.lines.length >= 2));
    assert.deepEqual(statsd.lines.map((l) => parse(l).name), ["sample_api.app_info", "sample_api.app_info"]);
  });

  it("1,000 requests to random unknown paths add exactly one route value", async () => {
    await start("dogstatsd");
    for (let i = 0; i < 1000; i++) {
      const res = await fetch(`${app.url}/${Math.random().toString(36).slice(2)}/${i}`);
      await res.arrayBuffer();
    }
    assert.ok(await waitFor(() => statsd.lines.length >= 2001, 5000));
    const routes = new Set(
      statsd.lines
        .map(parse)
        .filter((l) => l.name === "sample_api.http_requests")
        .map((l) => /route:([^,]*)/.exec(l.tags ?? "")![1]),
    );
    assert.deepEqual([...routes], ["unmatched"]);
  });

  it("the info gauge is re-sent every INFO_INTERVAL_SECONDS", async () => {
    statsd = await udpCapture();
    app = await startApp({ STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsd.port), INFO_INTERVAL_SECONDS: "1" });
    assert.ok(await waitFor(() => statsd.lines.length >= 3, 4000), `lines: ${statsd.lines.join(" ")}`);
    assert.deepEqual(new Set(statsd.lines), new Set(["sample_api.app_info.sample-api.1_2_3:1|g"]));
  });
});
