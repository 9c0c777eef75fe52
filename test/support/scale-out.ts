/**
 * The exporter topology in sidecar mode (a statsd_exporter beside each app replica), as the deployment tiers prove
 * it: a load kept running while replicas come and go, and the requests the app answered against what Prometheus
 * counted over the same range, summed over every replica's exporter as the dashboards sum them.
 */
import http from "node:http";
import { catalog } from "../../app/src/metrics/catalog";
import { ROUND, type LoadSummary } from "../../app/src/tools/load";
import { getJson, PrometheusApi } from "../../scripts/checks/backends";
import { asObject, countMismatches, prometheusCounts, rangeSince, servedCounts, settle, type Counts } from "../../scripts/checks/traffic";
import { waitFor } from "../../app/src/tools/wait";
import { EXPORTER_JOB } from "../../pipeline/prometheus";

/**
 * A request that takes longer was lost (the app's slowest endpoint takes 5 s). A timed-out request may still have
 * been counted: the comparison would then show it.
 */
const REQUEST_TIMEOUT_MS = 30_000;

/** Several scrape intervals (5 s), for a loaded node. */
const SCRAPED_WITHIN_MS = 60_000;

/** Long enough for the last replica that stopped to be scraped (its sidecar outlives it by 15 s) on a loaded node. */
const SETTLE_MS = 120_000;

/**
 * A load kept running against some URLs (`vus` users per URL, each GETting the load tool's round of endpoints in
 * turn) until stopped. Each request is on a connection of its own: a Service spreads the requests over its replicas
 * (a kept-alive connection stays on one), and no request races a replica closing an idle kept-alive connection.
 */
export class SteadyLoad {
  private running = true;
  private readonly users: Promise<LoadSummary>[];

  constructor(urls: readonly string[], vus: number) {
    this.users = urls.flatMap((url) => Array.from({ length: vus }, () => this.user(url.replace(/\/+$/, ""))));
  }

  private async user(base: string): Promise<LoadSummary> {
    const byPath: Record<string, Record<number, number>> = {};
    let requests = 0;
    let failures = 0;
    const started = performance.now();
    while (this.running) {
      for (const path of ROUND) {
        let status = 0;
        try {
          status = await get(`${base}${path}`);
        } catch {
          failures++;
          // A replica that is gone refuses at once: do not spin on it.
          await new Promise((r) => setTimeout(r, 50));
        }
        requests++;
        const perPath = (byPath[path] ??= {});
        perPath[status] = (perPath[status] ?? 0) + 1;
      }
    }
    const statuses: Record<number, number> = {};
    for (const perPath of Object.values(byPath)) for (const [s, n] of Object.entries(perPath)) statuses[Number(s)] = (statuses[Number(s)] ?? 0) + n;
    return { requests, failures, elapsedSeconds: (performance.now() - started) / 1000, statuses, byPath, latencyMs: { p50: 0, p90: 0, p99: 0, max: 0 } };
  }

  /** Stops after each user's current round; every user's summary (no latencies). */
  async stop(): Promise<LoadSummary[]> {
    this.running = false;
    return Promise.all(this.users);
  }
}

/** GETs `url` on a new connection; its status once the whole body has arrived. */
function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
  });
}

/** What a run of load did, in a line: answered and unanswered requests. */
export function describeLoad(summaries: readonly LoadSummary[]): string {
  const requests = summaries.reduce((n, s) => n + s.requests, 0);
  const unanswered = summaries.reduce((n, s) => n + (s.statuses[0] ?? 0), 0);
  return `${requests} requests, ${requests - unanswered} answered, ${unanswered} unanswered`;
}

/** What Prometheus counted against what was answered: the series that differ, and the load and counts in a line. */
export interface CountComparison {
  /** Empty when every answered request was counted once and nothing else was. */
  readonly problems: string[];
  /** The load, the counts by series and, when they differ, by exporter: an assertion's message. */
  readonly description: string;
}

/** Prometheus of a deployed exporter stack, read as the dashboards read it. */
export class ScaleOutReader {
  private readonly api: PrometheusApi;

  constructor(
    private readonly prometheusUrl: string,
    private readonly appName: string,
  ) {
    this.api = new PrometheusApi(prometheusUrl);
  }

  /** Prometheus's active statsd_exporter targets, as its targets API gives them. */
  private async activeExporterTargets(): Promise<Array<{ labels: Record<string, string>; health: string; lastScrape: string }>> {
    const body = await getJson<{ data: { activeTargets: Array<{ scrapePool: string; labels: Record<string, string>; health: string; lastScrape: string }> } }>(
      `${this.prometheusUrl}/api/v1/targets?state=active`,
    );
    return body.data.activeTargets.filter((t) => t.scrapePool === EXPORTER_JOB);
  }

  /**
   * The statsd_exporter targets Prometheus scrapes now and their last scrape's health, as `instance up|down`, sorted.
   * Its targets API, not the `up` series: a series of a target gone before a Prometheus restart (no staleness marker
   * then) still answers for 5 minutes.
   */
  async exporterTargets(): Promise<string[]> {
    return (await this.activeExporterTargets()).map((t) => `${t.labels.instance} ${t.health}`).sort();
  }

  /** Waits (at most 60 s; targets are scraped every 5 s) until `n` exporter targets are up; whether they were. */
  async targetsUp(n: number): Promise<boolean> {
    return waitFor(async () => (await this.exporterTargets()).filter((t) => t.endsWith(" up")).length === n, 60_000, 1000);
  }

  /**
   * The instant a count starts from (epoch seconds), returned once every exporter target has been scraped since. A
   * scrape's samples are stamped when it begins: one still reading an exporter at that instant could carry a request
   * sent after it under a time before it, and the count would miss that request.
   */
  async countFrom(): Promise<number> {
    const from = Date.now() / 1000;
    const lastScrapes = async () => (await this.activeExporterTargets()).map((t) => Date.parse(t.lastScrape) / 1000);
    let seen: number[] = [];
    const scrapedSince = await waitFor(async () => (seen = await lastScrapes()).length > 0 && seen.every((t) => t > from), SCRAPED_WITHIN_MS, 250);
    if (!scrapedSince) throw new Error(`the exporter targets were not all scraped within ${SCRAPED_WITHIN_MS} ms of ${from} (last scrapes: ${seen.join(", ") || "no target"})`);
    return from;
  }

  /** Requests counted since `fromEpoch` by each exporter (`instance`), only those that counted any. */
  async countedByInstance(fromEpoch: number): Promise<Record<string, number>> {
    const { range, at } = rangeSince(fromEpoch);
    const samples = await this.api.query(`sum by (instance) (increase(${catalog.requests.prometheusName}{app_name="${this.appName}"}[${range}] anchored)) > 0`, at);
    return Object.fromEntries(samples.map((s) => [s.metric.instance ?? "", s.value]));
  }

  /**
   * Every series where what Prometheus counted since `fromEpoch` differs from what `summaries` were answered, after
   * waiting for the counts to settle; empty when every answered request was counted once and nothing else was.
   */
  async mismatchesSince(fromEpoch: number, summaries: readonly LoadSummary[]): Promise<CountComparison> {
    const expected = servedCounts(summaries);
    const read = (): Promise<Counts> => prometheusCounts(this.api, catalog.requests.prometheusName, this.appName, fromEpoch);
    const last = await settle(read, expected, new Map(), SETTLE_MS);
    const problems = countMismatches(expected, new Map(), last);
    const description = `${describeLoad(summaries)}; counted ${JSON.stringify(asObject(last))}`;
    // Which exporter counted what, for a reader of a failure: a count too high or too low is then placed.
    const byInstance = problems.length === 0 ? "" : `; by exporter ${JSON.stringify(await this.countedByInstance(fromEpoch))}`;
    return { problems, description: description + byInstance };
  }
}
