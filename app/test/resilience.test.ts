import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { startApp } from "./helpers";

const REQUESTS = 200;
/**
 * How much slower the median request may be than with metrics off. The two runs are separate, so a busy machine moves
 * them apart by milliseconds; a request that waited on DNS or on the socket would be slower by far more.
 */
const SLOWER_AT_MOST_MS = 50;

/** Sends REQUESTS sequential GET / and returns every status and the median latency in ms. */
async function measure(url: string): Promise<{ statuses: Set<number>; p50: number }> {
  const statuses = new Set<number>();
  const latencies: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/`);
    await res.text();
    latencies.push(performance.now() - started);
    statuses.add(res.status);
  }
  latencies.sort((a, b) => a - b);
  return { statuses, p50: latencies[Math.floor(REQUESTS / 2)]! };
}

/** A UDP port with nothing listening on it: bind one, note its number, release it. */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address() as AddressInfo;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function run(env: Record<string, string>) {
  const app = await startApp(env);
  try {
    const result = await measure(app.url);
    return { ...result, logs: app.logs };
  } finally {
    await app.stop();
  }
}

describe("an unreachable StatsD never hurts requests", () => {
  it(`an unresolvable STATSD_HOST: every request succeeds, p50 within ${SLOWER_AT_MOST_MS} ms of metrics off, one log line`, async () => {
    const baseline = await run({ METRICS_ENABLED: "false" });
    const broken = await run({ STATSD_HOST: "statsd.nonexistent.invalid", METRICS_STYLE: "dogstatsd" });
    assert.deepEqual([...broken.statuses], [200]);
    assert.ok(broken.p50 - baseline.p50 < SLOWER_AT_MOST_MS, `p50 ${broken.p50.toFixed(2)} ms vs baseline ${baseline.p50.toFixed(2)} ms`);
    const cannotSend = broken.logs.filter((l) => l.startsWith("statsd: cannot send"));
    assert.equal(cannotSend.length, 1, broken.logs.join("\n"));
    // ENOTFOUND from a resolver that answers; EAI_AGAIN where no resolver can be reached (an offline machine).
    assert.match(cannotSend[0]!, /^statsd: cannot send to statsd\.nonexistent\.invalid:8125 \((ENOTFOUND|EAI_AGAIN)/);
  });

  it(`a STATSD_PORT where nothing listens: every request succeeds, p50 within ${SLOWER_AT_MOST_MS} ms of metrics off`, async () => {
    const baseline = await run({ METRICS_ENABLED: "false" });
    const port = await closedUdpPort();
    const closed = await run({ STATSD_HOST: "127.0.0.1", STATSD_PORT: String(port), METRICS_STYLE: "graphite" });
    assert.deepEqual([...closed.statuses], [200]);
    assert.ok(closed.p50 - baseline.p50 < SLOWER_AT_MOST_MS, `p50 ${closed.p50.toFixed(2)} ms vs baseline ${baseline.p50.toFixed(2)} ms`);
  });
});
