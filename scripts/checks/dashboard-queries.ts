/**
 * Every query of a provisioned dashboard, with its variables substituted the way Grafana would, run against the
 * real backend. Used by the end-to-end tests and by `npm run smoke` against a deployed stack.
 */
import type { Dashboard } from "../../dashboards/model";
import { queryOf } from "../../dashboards/model";
import { hasPoints, type GraphiteApi, type PrometheusApi } from "./backends";

export interface QueryCheck {
  readonly panel: string;
  readonly refId: string;
  readonly query: string;
  /** True when the query returned data. */
  readonly ok: boolean;
  readonly detail: string;
}

/** Replaces `$name` and `${name}` for the given variables only (PromQL's `${1}` stays as it is). */
export function substitute(query: string, vars: Readonly<Record<string, string>>): string {
  let out = query;
  // Longest names first, so `$__range` is not mistaken for a prefix of another variable.
  for (const name of Object.keys(vars).sort((a, b) => b.length - a.length)) {
    out = out.split(`\${${name}}`).join(vars[name]!).split(`$${name}`).join(vars[name]!);
  }
  return out;
}

/** The dashboard's queries, substituted, in panel order. */
export function dashboardQueries(dashboard: Dashboard, vars: Readonly<Record<string, string>>) {
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({
      panel: panel.title,
      refId: target.refId,
      query: substitute(queryOf(target), vars),
      instant: "instant" in target && target.instant === true,
    })),
  );
}

/**
 * Runs each query as Grafana would: instant targets (stat panels) at now, the others as range queries over
 * `window` with a 5 s step. A query returns data when any series has a finite value.
 */
export async function checkPrometheusDashboard(
  api: PrometheusApi,
  dashboard: Dashboard,
  vars: Readonly<Record<string, string>>,
  window: { readonly start: number; readonly end: number },
): Promise<QueryCheck[]> {
  const checks: QueryCheck[] = [];
  for (const { instant, ...q } of dashboardQueries(dashboard, vars)) {
    try {
      const values = instant
        ? (await api.query(q.query)).map((s) => s.value)
        : (await api.queryRange(q.query, window.start, window.end, 5)).flatMap((s) => s.values);
      const finite = values.filter((v) => Number.isFinite(v));
      checks.push({ ...q, ok: finite.length > 0, detail: `${finite.length} finite value(s)` });
    } catch (err) {
      checks.push({ ...q, ok: false, detail: (err as Error).message });
    }
  }
  return checks;
}

/** Each query that returned no data, in words; empty when every panel has data. */
export function failedPanels(checks: readonly QueryCheck[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => `panel "${c.panel}" ${c.refId} returned no data: ${c.query} (${c.detail})`);
}

export async function checkGraphiteDashboard(
  api: GraphiteApi,
  dashboard: Dashboard,
  vars: Readonly<Record<string, string>>,
  from: string,
): Promise<QueryCheck[]> {
  const checks: QueryCheck[] = [];
  for (const { instant: _, ...q } of dashboardQueries(dashboard, vars)) {
    try {
      const series = await api.render(q.query, from);
      checks.push({ ...q, ok: hasPoints(series), detail: `${series.length} series` });
    } catch (err) {
      checks.push({ ...q, ok: false, detail: (err as Error).message });
    }
  }
  return checks;
}

/** Values the dashboard's first variable offers, asked of the backend as Grafana would. */
export async function variableValues(dashboard: Dashboard, backend: PrometheusApi | GraphiteApi): Promise<string[]> {
  const variable = dashboard.templating.list[0];
  if (!variable) return [];
  if ("labelValues" in backend) {
    const match = /^label_values\((\w+), (\w+)\)$/.exec(variable.definition);
    if (!match) throw new Error(`unsupported variable query ${variable.definition}`);
    return backend.labelValues(match[2]!, match[1]!);
  }
  const names = await backend.find(variable.definition);
  const regex = variable.regex ? new RegExp(variable.regex.replace(/^\/|\/$/g, "")) : undefined;
  return names.filter((n) => !regex || regex.test(n));
}
