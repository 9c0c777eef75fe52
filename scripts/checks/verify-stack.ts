/**
 * Proves a running stack end to end: sends a known load, waits until the backend has counted exactly that load,
 * runs every query of the topology's dashboards (the app's, with its variable, and the pipeline health one), and
 * (exporter) reads the exporter's losses.
 * The end-to-end tests run it on local processes; `npm run smoke` runs it on a deployed stack.
 */
import { catalog, DEFAULT_APP_NAME, DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { SCRAPE_INTERVAL_SECONDS } from "../../pipeline/settings";
import { graphiteDashboard } from "../../dashboards/graphite";
import { graphiteHealthDashboard } from "../../dashboards/pipeline-health-graphite";
import { exporterHealthDashboard } from "../../dashboards/pipeline-health-prometheus";
import { prometheusDashboard } from "../../dashboards/prometheus";
import { exporterLosses, GraphiteApi, PrometheusApi } from "./backends";
import { checkGraphiteDashboard, checkPrometheusDashboard, failedPanels, variableValues, type QueryCheck } from "./dashboard-queries";
import { countChanges, countMismatches, graphiteCounts, graphiteRequestTotal, prometheusCounts, sendKnownLoad, settle, type Counts, type KnownLoad } from "./traffic";

export interface VerifyOptions {
  /**
   * Requests over the five endpoints. Each virtual user's round takes about 4.5 s (/io_task and /random_sleep):
   * keep requests / vus >= 15 so the load spans several scrapes and every rate() panel has points.
   */
  readonly requests: number;
  readonly vus: number;
  readonly unknownPaths: number;
  readonly appName?: string;
  readonly metricPrefix?: string;
  /** How long the backend may take to count the whole load. */
  readonly settleMs?: number;
}

export interface StackVerification {
  readonly load: KnownLoad;
  /** Every request-count series of the app before the load and after it, by `"<route> <method> <status>"`. */
  readonly before: Counts;
  readonly after: Counts;
  /** How much each series moved during the load: only the series that moved. */
  readonly counted: Counts;
  /** {@link countMismatches} of the load: empty when the backend counted exactly the requests sent. */
  readonly countProblems: readonly string[];
  readonly panels: readonly QueryCheck[];
  /** Every query of the topology's pipeline health dashboard, run like the app dashboard's. */
  readonly healthPanels: readonly QueryCheck[];
  readonly variable: readonly string[];
  /** Seconds from the first request to the first non-empty query result; undefined if none came. */
  readonly firstResultSeconds?: number;
  /** statsd_exporter's loss counters (exporter topology only). */
  readonly losses?: Readonly<Record<string, number>>;
}

/** Runs `probe` from the first request on; resolves with the seconds it took to return true, or undefined. */
function timeToFirstResult(probe: () => Promise<boolean>) {
  let sentAt = 0;
  let seconds: number | undefined;
  const done = waitFor(async () => {
    if (sentAt === 0) return false;
    const found = await probe();
    if (found) seconds = (Date.now() - sentAt) / 1000;
    return found;
  }, 120_000, 250);
  return { start: () => (sentAt = Date.now()), result: async () => (await done, seconds) };
}

export async function verifyExporterStack(
  urls: { apiUrl: string; prometheusUrl: string; exporterMetricsUrl: string },
  options: VerifyOptions,
): Promise<StackVerification> {
  const appName = options.appName ?? DEFAULT_APP_NAME;
  const metric = catalog.requests.prometheusName;
  const prom = new PrometheusApi(urls.prometheusUrl);
  // Everything counted from a second before the load on is the load's: run on an otherwise idle stack.
  const from = Math.floor(Date.now() / 1000) - 1;
  const total = async () => [...(await prometheusCounts(prom, metric, appName, from)).values()].reduce((a, b) => a + b, 0);
  const first = timeToFirstResult(async () => (await total()) > 0);
  const load = await sendKnownLoad(urls.apiUrl, { ...options, onStart: first.start });
  // The reading is the increase since `from`: what the app had counted before the load is not in it.
  const before: Counts = new Map();
  const read = () => prometheusCounts(prom, metric, appName, from);
  await settle(read, load.expected, before, options.settleMs ?? 30_000);
  const firstResultSeconds = await first.result();
  // rate() and increase() need two samples that include the load: wait for the scrape after the one that counted it.
  await new Promise((r) => setTimeout(r, (SCRAPE_INTERVAL_SECONDS + 1) * 1000));
  // Read again after that scrape, so that a series that moved after the load settled is seen too.
  const after = await read();
  const window = { start: Math.floor(load.startedAt) - 10, end: Math.ceil(Date.now() / 1000) };
  const panels = await checkPrometheusDashboard(prom, prometheusDashboard(), { app_name: appName, __rate_interval: "20s", __range: "30m" }, window);
  const healthPanels = await checkPrometheusDashboard(prom, exporterHealthDashboard(), { __rate_interval: "20s", __range: "30m" }, window);
  return {
    ...countsOf(load, before, after),
    panels,
    healthPanels,
    variable: await variableValues(prometheusDashboard(), prom),
    firstResultSeconds,
    losses: await exporterLosses(urls.exporterMetricsUrl),
  };
}

export async function verifyGraphiteStack(urls: { apiUrl: string; graphiteUrl: string }, options: VerifyOptions): Promise<StackVerification> {
  const prefix = options.metricPrefix ?? DEFAULT_METRIC_PREFIX;
  const graphite = new GraphiteApi(urls.graphiteUrl);
  // Whisper stamps a point at the start of its 10 s slot, possibly before the first request: count what the load
  // added to every point from a minute before it on, as a difference of two readings.
  const from = Math.floor(Date.now() / 1000) - 60;
  const read = () => graphiteCounts(graphite, prefix, from);
  const before = await read();
  const baselineTotal = await graphiteRequestTotal(graphite, prefix, from);
  const first = timeToFirstResult(async () => (await graphiteRequestTotal(graphite, prefix, from)) > baselineTotal);
  const load = await sendKnownLoad(urls.apiUrl, { ...options, onStart: first.start });
  await settle(read, load.expected, before, options.settleMs ?? 45_000);
  const firstResultSeconds = await first.result();
  const panels = await checkGraphiteDashboard(graphite, graphiteDashboard(prefix), { prefix }, "-30min");
  const healthPanels = await checkGraphiteDashboard(graphite, graphiteHealthDashboard(), {}, "-30min");
  // Read again after the dashboard's queries, so that a series that moved after the load settled is seen too.
  const after = await read();
  return {
    ...countsOf(load, before, after),
    panels,
    healthPanels,
    variable: await variableValues(graphiteDashboard(prefix), graphite),
    firstResultSeconds,
  };
}

function countsOf(load: KnownLoad, before: Counts, after: Counts) {
  return { load, before, after, counted: countChanges(before, after), countProblems: countMismatches(load.expected, before, after) };
}

/** Every way the verification falls short, in words; empty when the stack is proven. */
export function problems(v: StackVerification, expectedVariable: string): string[] {
  const out: string[] = [];
  out.push(...v.countProblems.map((p) => `count ${p}`));
  out.push(...failedPanels(v.panels));
  out.push(...failedPanels(v.healthPanels).map((p) => `pipeline health ${p}`));
  if (!v.variable.includes(expectedVariable)) out.push(`the dashboard variable lists ${JSON.stringify(v.variable)}, not ${expectedVariable}`);
  for (const [name, n] of Object.entries(v.losses ?? {})) if (n !== 0) out.push(`${name} = ${n}`);
  if (v.firstResultSeconds === undefined) out.push("no query result within 120 s of the first request");
  return out;
}
