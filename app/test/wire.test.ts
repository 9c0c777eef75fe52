import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { AGGREGATION_WINDOW_MS, type RecorderOptions } from "../src/metrics/recorder";
import { IO_TASK_MS } from "../src/routes";
import { get, LOADED_MACHINE_LATENESS_MS, startApp, udpCapture, waitedNominal, waitFor, type RunningApp, type UdpCapture } from "./helpers";

/**
 * Splits a StatsD line into name, values, type and tags. One line may carry several values of its key: DogStatsD 1.1
 * packs them as `name:v1:v2|ms|#tags`, Etsy statsd as `name:v1|ms:v2|ms`; both must agree on one type.
 */
function parse(line: string) {
  const match = /^([^:|#]+):(.+?)(?:\|#(.*))?$/.exec(line);
  assert.ok(match, `not a StatsD line: ${line}`);
  const samples = match[2]!;
  const packed = /^([-0-9.:]+)\|([a-z]+)$/.exec(samples);
  const parts = packed
    ? packed[1]!.split(":").map((value) => [value, packed[2]!] as const)
    : samples.split(":").map((sample) => sample.split("|") as [string, string]);
  const types = new Set(parts.map(([, type]) => type));
  assert.equal(types.size, 1, `mixed types in ${line}`);
  for (const [value] of parts) assert.match(value, /^-?[0-9]+(\.[0-9]+)?$/, `not a number in ${line}`);
  return { name: match[1]!, values: parts.map(([value]) => Number(value)), type: [...types][0]!, tags: match[3] };
}

/** The sum of every value that `lines` carry for the metric `name`. */
function total(lines: readonly string[], name: string): number {
  return lines
    .map(parse)
    .filter((l) => l.name === name)
    .reduce((sum, l) => sum + l.values.reduce((a, b) => a + b, 0), 0);
}

describe("StatsD lines on the wire", () => {
  let statsd: UdpCapture;
  let app: RunningApp;
  afterEach(async () => {
    await app.stop();
    await statsd.close();
  });

  async function start(style: string, random = () => 0.95, recorder?: RecorderOptions) {
    statsd = await udpCapture();
    app = await startApp(
      { METRICS_STYLE: style, STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsd.port) },
      { random, recorder },
    );
  }

  /** A window no test outlasts, so that only `flush()` ends it. */
  const oneWindow = { aggregationWindowMs: 3_600_000 };

  it("graphite style: the info metric is a counter of 1 that carries app name and version in the name", async () => {
    await start("graphite");
    assert.ok(await waitFor(() => statsd.lines.length >= 1));
    assert.deepEqual(statsd.lines, ["sample_api.app_info.sample-api.1_2_3:1|c"]);
  });

  it("graphite style: a 500 from /random_status is a timer in ms and a counter with route, method, status", async () => {
    await start("graphite");
    assert.equal((await get(`${app.url}/random_status`)).status, 500);
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const [timer, counter] = statsd.lines.slice(1).map(parse);
    assert.deepEqual({ ...timer, values: timer!.values.length }, {
      name: "sample_api.http_request_duration_ms.random_status.GET.500",
      values: 1,
      type: "ms",
      tags: undefined,
    });
    assert.ok(timer!.values[0]! > 0 && timer!.values[0]! < 1000, `timer value ${timer!.values[0]} is not milliseconds`);
    assert.deepEqual(counter, { name: "sample_api.http_requests.random_status.GET.500", values: [1], type: "c", tags: undefined });
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
    assert.deepEqual(info, { name: "sample_api.app_info", values: [1], type: "g", tags: "app_name:sample-api,version:1.2.3" });
    assert.equal(timer!.name, "sample_api.http_request_duration_ms");
    assert.equal(timer!.type, "ms");
    assert.equal(timer!.tags, "app_name:sample-api,route:/random_status,method:GET,status:500");
    assert.deepEqual(counter, {
      name: "sample_api.http_requests",
      values: [1],
      type: "c",
      tags: "app_name:sample-api,route:/random_status,method:GET,status:500",
    });
  });

  it("dogstatsd style: /io_task's timer value is its duration in milliseconds", async () => {
    await start("dogstatsd");
    await get(`${app.url}/io_task`);
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const [duration] = parse(statsd.lines[1]!).values;
    // At least the 2 s sleep (a timer may fire up to 1 ms early), and not more than a loaded machine makes it.
    assert.ok(waitedNominal(duration!, IO_TASK_MS), `io_task timer ${duration} ms for a ${IO_TASK_MS} ms sleep`);
  });

  it("a client that goes away during /io_task is counted once, with status 499", async () => {
    await start("dogstatsd");
    await assert.rejects(fetch(`${app.url}/io_task`, { signal: AbortSignal.timeout(100) }));
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const counter = parse(statsd.lines[2]!);
    assert.deepEqual(counter, {
      name: "sample_api.http_requests",
      values: [1],
      type: "c",
      tags: "app_name:sample-api,route:/io_task,method:GET,status:499",
    });
    // The handler still finishes 2 s later; it must not count the request a second time. Wait until its count,
    // had it been sent, would have gone out: the sleep, one aggregation window, and a margin for a busy machine.
    await new Promise((resolve) => setTimeout(resolve, IO_TASK_MS + AGGREGATION_WINDOW_MS + 1000));
    assert.equal(total(statsd.lines, "sample_api.http_requests"), 1);
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

  it("graphite style: requests in one window share one packed timer line and one counter line", async () => {
    await start("graphite", undefined, oneWindow);
    for (let i = 0; i < 3; i++) await get(`${app.url}/`);
    app.recorder.flush();
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const [timer, counter] = statsd.lines.slice(1);
    assert.match(timer!, /^sample_api\.http_request_duration_ms\.root\.GET\.200:[0-9.]+\|ms:[0-9.]+\|ms:[0-9.]+\|ms$/);
    assert.equal(counter, "sample_api.http_requests.root.GET.200:3|c");
  });

  it("dogstatsd style: requests in one window share one packed timer line and one counter line", async () => {
    await start("dogstatsd", undefined, oneWindow);
    for (let i = 0; i < 3; i++) await get(`${app.url}/`);
    app.recorder.flush();
    assert.ok(await waitFor(() => statsd.lines.length >= 3));
    const [timer, counter] = statsd.lines.slice(1);
    assert.match(
      timer!,
      /^sample_api\.http_request_duration_ms:[0-9.]+:[0-9.]+:[0-9.]+\|ms\|#app_name:sample-api,route:\/,method:GET,status:200$/,
    );
    assert.equal(counter, "sample_api.http_requests:3|c|#app_name:sample-api,route:/,method:GET,status:200");
  });

  it("1,000 requests to random unknown paths add exactly one route value, all counted and timed", async () => {
    await start("dogstatsd");
    for (let i = 0; i < 1000; i++) {
      const res = await fetch(`${app.url}/${Math.random().toString(36).slice(2)}/${i}`);
      await res.arrayBuffer();
    }
    const counted = () => total(statsd.lines, "sample_api.http_requests");
    assert.ok(await waitFor(() => counted() === 1000, 5000), `counted ${counted()}`);
    const requestLines = statsd.lines.map(parse).filter((l) => l.name !== "sample_api.app_info");
    const routes = new Set(requestLines.map((l) => /route:([^,]*)/.exec(l.tags ?? "")![1]));
    assert.deepEqual([...routes], ["unmatched"]);
    const timed = requestLines.filter((l) => l.type === "ms").reduce((n, l) => n + l.values.length, 0);
    assert.equal(timed, 1000);
  });

  it("no datagram exceeds 1,400 bytes, however many values a busy series packs", async () => {
    await start("graphite");
    await Promise.all(Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 50; i++) await get(`${app.url}/`);
    }));
    assert.ok(await waitFor(() => total(statsd.lines, "sample_api.http_requests.root.GET.200") === 1000, 5000));
    assert.ok(statsd.datagramBytes.length > 1, `datagrams: ${statsd.datagramBytes.length}`);
    assert.ok(Math.max(...statsd.datagramBytes) <= 1400, `largest datagram ${Math.max(...statsd.datagramBytes)} bytes`);
  });

  it("the info metric is re-sent every INFO_INTERVAL_SECONDS", async () => {
    statsd = await udpCapture();
    app = await startApp({ STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsd.port), INFO_INTERVAL_SECONDS: "1" });
    // The third send is due 2 s after start; a loaded machine may make it later.
    assert.ok(await waitFor(() => statsd.lines.length >= 3, 2000 + LOADED_MACHINE_LATENESS_MS), `lines: ${statsd.lines.join(" ")}`);
    assert.deepEqual(new Set(statsd.lines), new Set(["sample_api.app_info.sample-api.1_2_3:1|c"]));
  });
});
