/**
 * Load generator: what the tutorial's k6 script does, in Node. Each virtual user GETs the five endpoints in
 * turn, then pauses; a progress line is printed every second and a summary at the end.
 *
 *   npm run load -- --url http://127.0.0.1:8000 --duration 60 --vus 2 --pause 0.5
 *
 * Each virtual user sends its requests one after another over its own keep-alive connection, as a k6 virtual user
 * does, and each response is counted under the path its own request asked for. (This used to be a short autocannon
 * run per round, counting the k-th response as the round's k-th path: when a server closed the connection, as a
 * stopping one does, responses were counted under other paths than their requests'.) As with k6, a round that has
 * started when the time is up is allowed to finish.
 */
import http from "node:http";
import https from "node:https";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_PAUSE_SECONDS, ROUND } from "./round";

export { ROUND };

/** Longer than the slowest endpoint (/random_sleep, up to 5 s), so only a stuck server times out. */
const REQUEST_TIMEOUT_SECONDS = 30;

export interface LoadOptions {
  readonly url: string;
  readonly durationSeconds: number;
  readonly vus: number;
  readonly pauseSeconds: number;
  /** Stop after this many requests in all (rounds are cut short); for tests and exact accounting. */
  readonly maxRequests?: number;
  readonly onProgress?: (summary: LoadSummary) => void;
}

export interface LoadSummary {
  readonly requests: number;
  readonly failures: number;
  readonly elapsedSeconds: number;
  /** Responses by status; transport failures (refused, reset, timed out) count under 0. */
  readonly statuses: Readonly<Record<number, number>>;
  /** Per path, responses by status. */
  readonly byPath: Readonly<Record<string, Readonly<Record<number, number>>>>;
  /** Latency of answered requests. */
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
}

/** GETs `url` and reads the whole answer: its status, or 0 when no answer came (refused, reset, timed out). */
function get(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const request = (url.startsWith("https:") ? https : http).get(url, { agent, timeout: REQUEST_TIMEOUT_SECONDS * 1000 }, (response) => {
      // Cut off half way (reset, or destroyed on timeout), an answer counts as none.
      response.on("close", () => resolve(response.complete ? (response.statusCode ?? 0) : 0));
      response.resume();
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_SECONDS} s`)));
    request.on("error", () => resolve(0));
  });
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const base = options.url.replace(/\/+$/, "");
  const started = performance.now();
  const deadline = started + options.durationSeconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const byPath: Record<string, Record<number, number>> = {};
  let issued = 0;
  let failures = 0;

  const count = (path: string, status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    const perPath = (byPath[path] ??= {});
    perPath[status] = (perPath[status] ?? 0) + 1;
  };

  const summary = (): LoadSummary => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      requests: latencies.length + failures,
      failures,
      elapsedSeconds: (performance.now() - started) / 1000,
      statuses: { ...statuses },
      byPath: structuredClone(byPath),
      latencyMs: {
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? 0,
      },
    };
  };

  const budget = () => (options.maxRequests === undefined ? ROUND.length : options.maxRequests - issued);
  const more = () => performance.now() < deadline && budget() > 0;

  /**
   * One round of a virtual user: the endpoints in order on its connection. A refused connection or a timeout ends the
   * round, as one failed request; the next round tries again.
   */
  async function round(agent: http.Agent): Promise<void> {
    for (const path of ROUND) {
      if (budget() <= 0) return;
      issued++;
      const sent = performance.now();
      const status = await get(`${base}${path}`, agent);
      if (status === 0) {
        failures++;
        count(path, 0);
        return;
      }
      latencies.push(performance.now() - sent);
      count(path, status);
    }
  }

  async function virtualUser(): Promise<void> {
    const agent = new (base.startsWith("https:") ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
    try {
      while (more()) {
        await round(agent);
        if (options.pauseSeconds > 0 && more()) await sleep(options.pauseSeconds * 1000);
      }
    } finally {
      agent.destroy();
    }
  }

  const ticker = options.onProgress ? setInterval(() => options.onProgress!(summary()), 1000) : undefined;
  try {
    await Promise.all(Array.from({ length: options.vus }, () => virtualUser()));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return summary();
}

export function formatSummary(s: LoadSummary): string {
  const statusLine = Object.entries(s.statuses)
    .map(([status, n]) => `${status === "0" ? "failed" : status}: ${n}`)
    .join(", ");
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    `requests   ${s.requests} in ${s.elapsedSeconds.toFixed(1)} s (${(s.requests / Math.max(s.elapsedSeconds, 1e-9)).toFixed(1)}/s)`,
    `statuses   ${statusLine}`,
    `latency    p50 ${ms(s.latencyMs.p50)}  p90 ${ms(s.latencyMs.p90)}  p99 ${ms(s.latencyMs.p99)}  max ${ms(s.latencyMs.max)}`,
  ].join("\n");
}

function positive(name: string, raw: string, allowZero = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    console.error(`load: --${name}=${raw} is not valid: expected a ${allowZero ? "non-negative" : "positive"} number`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:8000" },
      duration: { type: "string", default: "60" },
      vus: { type: "string", default: "1" },
      pause: { type: "string", default: String(DEFAULT_PAUSE_SECONDS) },
    },
  });
  const vus = positive("vus", values.vus);
  if (!Number.isInteger(vus)) {
    console.error(`load: --vus=${values.vus} is not valid: expected a whole number >= 1`);
    process.exit(2);
  }
  const options: LoadOptions = {
    url: values.url,
    durationSeconds: positive("duration", values.duration),
    vus,
    pauseSeconds: positive("pause", values.pause, true),
    onProgress: (s) => {
      const line = `${s.elapsedSeconds.toFixed(0)}s  ${s.requests} requests  ${(s.requests / s.elapsedSeconds).toFixed(1)}/s  ${s.failures} failed`;
      if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
      else console.log(line);
    },
  };
  console.log(`load: ${options.vus} VU(s) on ${options.url} for ${options.durationSeconds} s, pause ${options.pauseSeconds} s`);
  const summary = await runLoad(options);
  if (process.stdout.isTTY) process.stdout.write("\n");
  console.log(formatSummary(summary));
  process.exitCode = summary.failures > 0 ? 1 : 0;
}

if (require.main === module) void main();
