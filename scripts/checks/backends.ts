/** Minimal clients for the two query APIs the dashboards use: Prometheus's HTTP API and Graphite's render/find. */
import { EXPORTER_LOSS_COUNTERS } from "../../pipeline/exporter";

const TIMEOUT_MS = 10_000;

/** GETs `url` and parses its JSON body; throws with the status and the start of the body unless it answers 2xx. */
export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export class PrometheusApi {
  constructor(readonly baseUrl: string) {}

  /** An instant query, now or at `atEpoch`; a scalar result comes back as one sample without labels. */
  async query(expr: string, atEpoch?: number): Promise<PromSample[]> {
    const at = atEpoch === undefined ? "" : `&time=${atEpoch}`;
    const body = (await getJson(`${this.baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}${at}`)) as {
      status: string;
      data: { resultType: string; result: unknown };
    };
    if (body.status !== "success") throw new Error(`query failed: ${expr}`);
    if (body.data.resultType === "scalar") {
      const [, v] = body.data.result as [number, string];
      return [{ metric: {}, value: Number(v) }];
    }
    return (body.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  /** A range query, as Grafana runs for a time series panel. */
  async queryRange(expr: string, startEpoch: number, endEpoch: number, stepSeconds: number): Promise<Array<{ metric: Record<string, string>; values: number[] }>> {
    const params = new URLSearchParams({ query: expr, start: String(startEpoch), end: String(endEpoch), step: String(stepSeconds) });
    const body = (await getJson(`${this.baseUrl}/api/v1/query_range?${params}`)) as {
      status: string;
      data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    };
    if (body.status !== "success") throw new Error(`range query failed: ${expr}`);
    return body.data.result.map((r) => ({ metric: r.metric, values: r.values.map(([, v]) => Number(v)) }));
  }

  /** Values of a label over the series `match` selects (what Grafana's `label_values(match, label)` lists). */
  async labelValues(label: string, match: string): Promise<string[]> {
    const body = (await getJson(`${this.baseUrl}/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`)) as { data: string[] };
    return body.data;
  }
}

export interface GraphiteSeries {
  readonly target: string;
  readonly datapoints: ReadonlyArray<readonly [number | null, number]>;
}

export class GraphiteApi {
  constructor(readonly baseUrl: string) {}

  /** `/render` as Grafana asks for it; `maxDataPoints` is the panel's width in pixels (Grafana sends it). */
  async render(target: string, from = "-15min", maxDataPoints?: number, until?: string): Promise<GraphiteSeries[]> {
    const params = new URLSearchParams({ target, from, format: "json" });
    if (maxDataPoints !== undefined) params.set("maxDataPoints", String(maxDataPoints));
    if (until !== undefined) params.set("until", until);
    return (await getJson(`${this.baseUrl}/render?${params}`)) as GraphiteSeries[];
  }

  /** Node names one level below a pattern (what Grafana's Graphite variable query lists). */
  async find(query: string): Promise<string[]> {
    const nodes = (await getJson(`${this.baseUrl}/metrics/find?query=${encodeURIComponent(query)}`)) as Array<{ text: string }>;
    return nodes.map((n) => n.text);
  }
}

/** Whether any series has at least one non-null point. */
export function hasPoints(series: readonly GraphiteSeries[]): boolean {
  return series.some((s) => s.datapoints.some(([v]) => v !== null));
}

/** The sum of every non-null point at or after `sinceEpoch` over all series. */
export function sumPoints(series: readonly GraphiteSeries[], sinceEpoch = 0): number {
  let total = 0;
  for (const s of series) for (const [v, t] of s.datapoints) if (v !== null && t >= sinceEpoch) total += v;
  return total;
}

/** Samples of `name{labels} value` lines in Prometheus's text format, keyed by the label set. */
export function parseMetricsText(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const line = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`);
  for (const l of text.split("\n")) {
    const match = line.exec(l);
    if (match) out.set(match[1] ?? "", Number(match[2]));
  }
  return out;
}

/** The sum of every sample of `name` in Prometheus's text format. */
export function metricsTextTotal(text: string, name: string): number {
  return [...parseMetricsText(text, name).values()].reduce((a, b) => a + b, 0);
}

/** statsd_exporter's loss counters, defined with its mapping (the alert rules watch them too). */
export { EXPORTER_LOSS_COUNTERS };

export async function exporterLosses(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(TIMEOUT_MS) })).text();
  return Object.fromEntries(EXPORTER_LOSS_COUNTERS.map((n) => [n, metricsTextTotal(text, n)]));
}
