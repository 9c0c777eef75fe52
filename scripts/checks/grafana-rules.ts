/**
 * One evaluation of a Grafana-managed alert rule over the Graphite datasource, done as Grafana does it, so that a
 * rule can be proven against a real graphite-web where Grafana itself cannot run: the datasource query is POSTed to
 * `/render` as Grafana's Graphite backend sends it (absolute `from` and `until` in epoch seconds from the query's
 * relative time range, `format=json`, the model's `maxDataPoints`), then the rule's reduce and threshold expressions
 * are applied to every series returned, with Grafana's semantics for null points (strict, `dropNN`, `replaceNN`).
 * A query that returns no series is Grafana's "no data": the rule's `noDataState` decides.
 */
import { EXPRESSION_DATASOURCE, type AlertQuery, type GrafanaAlertRule } from "../../pipeline/grafana-alerting";

/** One series of the query, reduced and compared. */
export interface SeriesEvaluation {
  /** The series' name (Grafana's display name): the Graphite target after `alias`. */
  readonly name: string;
  /** The reduce expression's result; NaN where Grafana's would be NaN or null. */
  readonly value: number;
  /** Whether the condition (the threshold expression) holds for this series. */
  readonly conditionMet: boolean;
}

export interface RuleEvaluation {
  readonly series: readonly SeriesEvaluation[];
  /** The query returned no series: the rule goes to its `noDataState`. */
  readonly noData: boolean;
  /** What the evaluation makes the rule: pending or firing (Alerting), or Normal (condition false, or no data with noDataState OK). */
  readonly state: "Alerting" | "Normal" | "NoData" | "KeepLast";
}

interface GraphiteJsonSeries {
  readonly target: string;
  readonly datapoints: ReadonlyArray<readonly [number | null, number]>;
}

/** Grafana's Graphite backend rewrites `'5m'` as `'5min'` (Graphite reads `m` otherwise) and `'1M'` as `'1mon'`. */
export function grafanaTarget(target: string): string {
  return target.replace(/'(\d+)m'/g, "'$1min'").replace(/'(\d+)M'/g, "'$1mon'");
}

/** The query's series as Grafana's Graphite backend asks graphite-web for them, at evaluation time `nowMs`. */
export async function renderAsGrafana(graphiteUrl: string, query: AlertQuery, nowMs: number): Promise<GraphiteJsonSeries[]> {
  const range = query.relativeTimeRange;
  if (!range) throw new Error(`query ${query.refId} has no relativeTimeRange`);
  const now = Math.floor(nowMs / 1000);
  const form = new URLSearchParams({
    from: String(now - range.from),
    until: String(now - range.to),
    format: "json",
    maxDataPoints: String(query.model.maxDataPoints),
    target: grafanaTarget(String(query.model.target)),
  });
  const res = await fetch(`${graphiteUrl.replace(/\/+$/, "")}/render`, {
    method: "POST",
    body: form,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`graphite-web answered ${res.status} to ${form.get("target")}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as GraphiteJsonSeries[];
}

type Reducer = (values: readonly (number | null)[]) => number | null;

/** Grafana's reducers (pkg/expr/mathexp): in strict mode a null or NaN point makes sum, mean, min and max NaN. */
const REDUCERS: Record<string, Reducer> = {
  last: (v) => (v.length === 0 ? NaN : v[v.length - 1]!),
  count: (v) => v.length,
  sum: (v) => (v.some((x) => x === null || Number.isNaN(x)) ? NaN : v.reduce<number>((a, b) => a + b!, 0)),
  mean: (v) => (v.some((x) => x === null || Number.isNaN(x)) ? NaN : v.reduce<number>((a, b) => a + b!, 0) / v.length),
  min: (v) => (v.length === 0 || v.some((x) => x === null || Number.isNaN(x)) ? NaN : Math.min(...(v as number[]))),
  max: (v) => (v.length === 0 || v.some((x) => x === null || Number.isNaN(x)) ? NaN : Math.max(...(v as number[]))),
};

/** The reduce expression on one series' values, with its null-handling mode. */
export function reduce(model: Readonly<Record<string, unknown>>, values: readonly (number | null)[]): number {
  const reducer = REDUCERS[String(model.reducer).toLowerCase()];
  if (!reducer) throw new Error(`reducer ${String(model.reducer)} is not one of Grafana's`);
  const settings = (model.settings ?? {}) as { mode?: string; replaceWithValue?: number };
  const nonNumber = (x: number | null) => x === null || !Number.isFinite(x);
  if (settings.mode === "dropNN") {
    const out = reducer(values.filter((x) => !nonNumber(x)));
    return out === null ? NaN : out;
  }
  if (settings.mode === "replaceNN") {
    const out = reducer(values.map((x) => (nonNumber(x) ? settings.replaceWithValue! : x)));
    return out === null || Number.isNaN(out) ? settings.replaceWithValue! : out;
  }
  const out = reducer(values);
  return out === null ? NaN : out;
}

/** The threshold expression's one condition on a reduced value; a NaN value meets none. */
export function thresholdMet(model: Readonly<Record<string, unknown>>, value: number): boolean {
  const [condition] = model.conditions as Array<{ evaluator: { type: string; params: number[] } }>;
  const { type, params } = condition!.evaluator;
  const [a, b] = params as [number, number];
  const predicates: Record<string, (f: number) => boolean> = {
    gt: (f) => f > a,
    lt: (f) => f < a,
    gte: (f) => f >= a,
    lte: (f) => f <= a,
    eq: (f) => f === a,
    ne: (f) => f !== a,
    within_range: (f) => f > a && f < b,
    outside_range: (f) => f < a || f > b,
    within_range_included: (f) => f >= a && f <= b,
    outside_range_included: (f) => f <= a || f >= b,
  };
  const predicate = predicates[type];
  if (!predicate) throw new Error(`threshold type ${type} is not one of Grafana's`);
  return !Number.isNaN(value) && predicate(value);
}

/**
 * Evaluates `rule` at `nowMs` against graphite-web: its one Graphite query, then its reduce and threshold expressions
 * (the shape pipeline/grafana-alerting.ts generates: query, reduce of the query, threshold of the reduce = condition).
 */
export async function evaluateGraphiteRule(graphiteUrl: string, rule: GrafanaAlertRule, nowMs = Date.now()): Promise<RuleEvaluation> {
  const byRef = new Map(rule.data.map((q) => [q.refId, q]));
  const condition = byRef.get(rule.condition);
  if (condition?.model.type !== "threshold") throw new Error(`${rule.title}: condition ${rule.condition} is not a threshold expression`);
  const reduceStep = byRef.get(String(condition.model.expression));
  if (reduceStep?.model.type !== "reduce") throw new Error(`${rule.title}: the threshold does not read a reduce expression`);
  const query = byRef.get(String(reduceStep.model.expression));
  if (!query || query.datasourceUid === EXPRESSION_DATASOURCE) throw new Error(`${rule.title}: the reduce does not read a datasource query`);

  const rendered = await renderAsGrafana(graphiteUrl, query, nowMs);
  if (rendered.length === 0) {
    const state = rule.noDataState === "OK" ? "Normal" : rule.noDataState;
    return { series: [], noData: true, state };
  }
  const series = rendered.map((s) => {
    const value = reduce(reduceStep.model, s.datapoints.map(([v]) => v));
    return { name: s.target, value, conditionMet: thresholdMet(condition.model, value) };
  });
  return { series, noData: false, state: series.some((s) => s.conditionMet) ? "Alerting" : "Normal" };
}
