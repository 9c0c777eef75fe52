/**
 * What a dashboard's stat panels show, computed as Grafana computes it: the panel's queries with the dashboard's
 * variables and time range substituted, asked of the real backend the way Grafana asks (Prometheus: an instant query
 * at the end of the range; Graphite: /render over the range with the panel's width as maxDataPoints), then reduced
 * with the panel's reducer. The tests compare these numbers with what a known load must make them.
 */
import type { Dashboard, Panel } from "../../dashboards/model";
import { queryOf } from "../../dashboards/model";
import type { GraphiteApi, PrometheusApi } from "./backends";
import { substitute } from "./dashboard-queries";

/** A dashboard of 1,280 pixels (a small laptop screen): a panel's width in pixels, which Grafana sends as maxDataPoints. */
export function panelMaxDataPoints(panel: Panel, dashboardWidthPx = 1280): number {
  return Math.floor((panel.gridPos.w / 24) * dashboardWidthPx);
}

/** What one stat panel shows: a number, or the series name when the panel shows names; null for "No data". */
export type StatValue = number | string | null;

type Reducer = "lastNotNull" | "sum" | "mean" | "max";

function reduce(values: readonly number[], reducer: Reducer): number | null {
  if (values.length === 0) return null;
  switch (reducer) {
    case "lastNotNull":
      return values[values.length - 1]!;
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "mean":
      return values.reduce((a, b) => a + b, 0) / values.length;
    case "max":
      return Math.max(...values);
  }
}

const reducerOf = (panel: Panel) => ((panel.options.reduceOptions as { calcs: Reducer[] }).calcs[0] ?? "lastNotNull");
const showsNames = (panel: Panel) => panel.options.textMode === "name";

/** Prometheus: range in seconds, e.g. 900 for the last 15 minutes. */
export async function prometheusStatValues(api: PrometheusApi, dashboard: Dashboard, vars: Readonly<Record<string, string>>, rangeSeconds: number) {
  const shown: Record<string, StatValue> = {};
  for (const panel of dashboard.panels.filter((p) => p.type === "stat")) {
    const target = panel.targets[0]!;
    const samples = await api.query(substitute(queryOf(target), { ...vars, __range: `${rangeSeconds}s` }));
    if (showsNames(panel)) {
      const legend = "legendFormat" in target ? target.legendFormat ?? "" : "";
      shown[panel.title] = samples.length === 0 ? null : samples.map((s) => legend.replace(/\{\{(\w+)\}\}/g, (_, l: string) => s.metric[l] ?? "")).join(", ");
    } else {
      shown[panel.title] = reduce(samples.map((s) => s.value).filter((v) => Number.isFinite(v)), reducerOf(panel));
    }
  }
  return shown;
}

/**
 * Graphite: range as a Graphite `from`, e.g. "-15min" or "-12h"; a panel's own `timeFrom` wins, as in Grafana.
 * `maxDataPoints` overrides the panel's width (1: graphite-web merges the whole range into one point).
 */
export async function graphiteStatValues(api: GraphiteApi, dashboard: Dashboard, vars: Readonly<Record<string, string>>, from: string, maxDataPoints?: number) {
  const shown: Record<string, StatValue> = {};
  for (const panel of dashboard.panels.filter((p) => p.type === "stat")) {
    const range = panel.timeFrom ? `-${panel.timeFrom.replace(/m$/, "min")}` : from;
    const series = await api.render(substitute(queryOf(panel.targets[0]!), vars), range, maxDataPoints ?? panelMaxDataPoints(panel));
    if (showsNames(panel)) {
      const named = series.filter((s) => s.datapoints.some(([v]) => v !== null)).map((s) => s.target);
      shown[panel.title] = named.length === 0 ? null : named.join(", ");
    } else {
      const values = series.flatMap((s) => s.datapoints.map(([v]) => v).filter((v): v is number => v !== null));
      shown[panel.title] = reduce(values, reducerOf(panel));
    }
  }
  return shown;
}
