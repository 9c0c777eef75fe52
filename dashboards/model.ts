/**
 * A small typed model of the Grafana dashboard JSON this project provisions: just the fields it sets, so a typo in
 * a field name is a compile error and every panel is built the same way.
 */
import { DASHBOARD_RANGE, DASHBOARD_REFRESH } from "../pipeline/settings";

export interface DatasourceRef {
  readonly type: "prometheus" | "graphite";
  readonly uid: string;
}

export type Target =
  | { readonly refId: string; readonly expr: string; readonly legendFormat?: string; readonly instant?: boolean }
  | { readonly refId: string; readonly target: string };

export interface Panel {
  readonly id: number;
  readonly type: "timeseries" | "stat";
  readonly title: string;
  readonly description?: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource: DatasourceRef;
  readonly targets: readonly Target[];
  /** A panel's own relative time range (Grafana's "relative time"), e.g. "1m": overrides the dashboard's. */
  readonly timeFrom?: string;
  readonly fieldConfig: { readonly defaults: Record<string, unknown>; readonly overrides: readonly unknown[] };
  readonly options: Record<string, unknown>;
}

export interface Variable {
  readonly name: string;
  readonly label: string;
  readonly type: "query";
  readonly datasource: DatasourceRef;
  readonly query: string | Record<string, unknown>;
  readonly definition: string;
  readonly regex?: string;
  readonly refresh: 1 | 2;
  readonly includeAll: boolean;
  readonly multi: boolean;
  readonly current?: { readonly text: string; readonly value: string };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly editable: boolean;
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly timezone: string;
  readonly templating: { readonly list: readonly Variable[] };
  readonly panels: readonly Panel[];
}

/** What differs between the project's dashboards; everything else is shared. */
export interface DashboardDraft {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** The backend's tag, beside the project's own. */
  readonly backend: DatasourceRef["type"];
  readonly datasource: DatasourceRef;
  readonly variables: readonly Variable[];
  readonly panels: readonly PanelDraft[];
}

/** A dashboard with the project's shared settings: read-only (it is code), live refresh, the demo's time range. */
export function dashboard(d: DashboardDraft): Dashboard {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ["statsd-stack", d.backend],
    schemaVersion: 39,
    editable: false,
    refresh: DASHBOARD_REFRESH,
    time: { from: DASHBOARD_RANGE, to: "now" },
    timezone: "browser",
    templating: { list: d.variables },
    panels: buildPanels(d.datasource, d.panels),
  };
}

/** The panel titled `title`; a missing title is an error that names it. */
export function panelByTitle(dashboard: Dashboard, title: string): Panel {
  const panel = dashboard.panels.find((p) => p.title === title);
  if (!panel) throw new Error(`dashboard "${dashboard.title}" has no panel titled "${title}"`);
  return panel;
}

/** The query text of a target, whichever datasource it is for. */
export function queryOf(target: Target): string {
  return "expr" in target ? target.expr : target.target;
}

/** Lays panels out left to right in rows of 24 columns, each of the given width and height. */
export function layout<T extends { w: number; h: number }>(items: readonly T[]): Array<T & { x: number; y: number }> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return items.map((item) => {
    if (x + item.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { ...item, x, y };
    x += item.w;
    rowHeight = Math.max(rowHeight, item.h);
    return placed;
  });
}

export interface PanelDraft {
  readonly type: Panel["type"];
  readonly title: string;
  readonly description: string;
  readonly w: number;
  readonly h: number;
  readonly targets: readonly Target[];
  readonly unit: string;
  /** For stat panels: how the series over the dashboard's range is reduced to one number. */
  readonly reducer?: "lastNotNull" | "sum" | "mean" | "max";
  readonly textMode?: "value" | "name";
  readonly decimals?: number;
  readonly timeFrom?: string;
}

/** Turns drafts into positioned panels with consistent options. */
export function buildPanels(datasource: DatasourceRef, drafts: readonly PanelDraft[]): Panel[] {
  return layout(drafts).map((d, i) => ({
    id: i + 1,
    type: d.type,
    title: d.title,
    description: d.description,
    gridPos: { x: d.x, y: d.y, w: d.w, h: d.h },
    datasource,
    targets: d.targets,
    ...(d.timeFrom === undefined ? {} : { timeFrom: d.timeFrom }),
    fieldConfig: {
      defaults: {
        unit: d.unit,
        ...(d.decimals === undefined ? {} : { decimals: d.decimals }),
        ...(d.type === "timeseries" ? { custom: { lineWidth: 2, fillOpacity: 10, showPoints: "never", spanNulls: true } } : {}),
        ...(d.unit === "percentunit" ? { min: 0, max: 1 } : {}),
      },
      overrides: [],
    },
    options:
      d.type === "stat"
        ? {
            reduceOptions: { calcs: [d.reducer ?? "lastNotNull"], fields: "", values: false },
            textMode: d.textMode ?? "value",
            colorMode: "value",
            graphMode: "none",
            justifyMode: "center",
          }
        : { legend: { displayMode: "table", placement: "right", calcs: ["lastNotNull", "max"] }, tooltip: { mode: "multi", sort: "desc" } },
  }));
}
