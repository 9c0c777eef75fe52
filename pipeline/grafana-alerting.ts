/**
 * The graphite topology's alerts: the exporter topology's three service alerts and its series flood alert
 * (pipeline/rules.ts), as Grafana-managed alert rules over the Graphite datasource, and where Grafana sends their
 * notifications. Grafana reads these files
 * from /etc/grafana/provisioning/alerting/ (file provisioning, apiVersion 1) at start.
 *
 * Each rule is three steps, as Grafana's rule editor builds them: A, a Graphite query that computes the whole
 * windowed measure in graphite-web (so the tests can run it on the real graphite-web); B, a reduce expression taking
 * A's last point; C, a threshold expression on B, the rule's condition. Grafana interpolates environment variables
 * (`$NAME`, `${NAME}`) in most fields of these files, but not in rule annotations or query models: so `$` appears only
 * in those two places (Grafana templates such as `$values`), and in the contact point's URL, which is such a reference.
 */
import { stringify } from "yaml";
import { APP_LABEL, catalog } from "../app/src/metrics/catalog";
import { graphiteSegment } from "../app/src/metrics/names";
import { ALERT_GROUP_BY, type AlertRouting } from "./alertmanager";
import { graphitePaths, STATSD_OWN_PATHS } from "./graphite";
import { quantilePercent } from "./quantiles";
import { alertingRules, APP_NOT_REPORTING_FOR, durationMs, RULE_GROUPS, RULE_WINDOW, SERIES_FLOOD_FOR, SERVICE_ALERTS, type AlertThresholds } from "./rules";
import { DATASOURCE_UIDS, STATSD_FLUSH_SECONDS } from "./settings";

/** Where Grafana reads alerting provisioning files. */
export const GRAFANA_ALERTING_DIR = "/etc/grafana/provisioning/alerting";

/**
 * The environment variable holding the webhook URL in Grafana's container. The contact point file refers to it
 * (`${...}`), so the URL, which often carries a token, stays out of the file (a ConfigMap on Kubernetes, plain state
 * on Docker) and reaches Grafana as secret environment (a Kubernetes Secret, a secret in Pulumi state). Not `GF_*`:
 * Grafana reads those as its own settings.
 */
export const WEBHOOK_URL_ENV = "STATSD_STACK_ALERT_WEBHOOK_URL";

/** The folder the rules are stored in: the one the dashboards are provisioned into (pipeline/grafana.ts). */
export const ALERT_FOLDER = "statsd-stack";

/** How often Grafana evaluates the rules: statsd's flush interval, the rate at which Graphite's data changes. */
export const ALERT_EVALUATION_INTERVAL = `${STATSD_FLUSH_SECONDS}s`;

/** The contact point (and its one integration's uid) that POSTs the webhook JSON to the stack's alertWebhookUrl. */
export const WEBHOOK_CONTACT_POINT = "statsd-stack-webhook";

/** Grafana's uid of its server-side expressions, in place of a datasource uid. */
export const EXPRESSION_DATASOURCE = "__expr__";

/**
 * How much of Graphite's data a query reads: the last 10 minutes (Grafana's default range for a new rule, which its
 * rule page plots). The rules read only the last point; graphite-web fetches the points its moving windows need
 * before the range by itself.
 */
export const QUERY_RANGE_SECONDS = 600;

/**
 * Points graphite-web may return before it merges neighbours: Grafana's default for an alert query, far above the
 * range's 60 points of 10 s, so every point is returned as stored.
 */
export const QUERY_MAX_DATA_POINTS = 43200;

/**
 * The window in which AppNotReporting counts the app's info reports. The app re-sends it every 15 s; statsd counts
 * it at its next flush (up to 10 s later) into a 10 s bucket that a query can see only once flushed (up to 10 s
 * more): a running app always has a report counted within the last 35 s, and a minute holds at least two.
 */
export const INFO_WINDOW_SECONDS = 60;

/** The window in which StatsdSeriesFlood takes statsd's largest flush: six flushes, so an unwritten newest slot is no gap. */
export const SERIES_WINDOW_SECONDS = 60;

/** A duration in Graphite's function syntax, in whole minutes where it can be: 300000 -> "5min". */
function graphiteInterval(ms: number): string {
  const seconds = ms / 1000;
  return seconds % 60 === 0 ? `${seconds / 60}min` : `${seconds}s`;
}

/** Graphite targets of the three rules for an app's metric prefix and name, each one series named by its alias. */
export function graphiteAlertQueries(metricPrefix: string, appName: string) {
  const p = graphitePaths(metricPrefix);
  const window = graphiteInterval(durationMs(RULE_WINDOW)!);
  const counts = `${p.requestCounts}.*.*.*`;
  // No path exists for 5xx until the first one: adding the total scaled by 0 makes it read 0 instead of no series,
  // so that divideSeries has a dividend whenever the app has traffic (the dashboard's error panels do the same).
  const serverErrors = `sumSeries(${p.requestCounts}.*.*.5*, scale(sumSeries(${counts}), 0))`;
  return {
    /**
     * 5xx responses over all responses in the last 5 minutes: statsd's per-flush counts summed over every route,
     * method and status, then over the window, and divided: the true ratio over the window (an average of per-flush
     * ratios would weigh a quiet flush like a busy one). No traffic in the window: no value (divideSeries by 0).
     */
    serverErrorRatio: `alias(divideSeries(movingSum(${serverErrors}, '${window}'), movingSum(sumSeries(${counts}), '${window}')), 'server_error_ratio')`,
    /**
     * The highest 99th percentile, in seconds, that statsd computed for any route, method and status in a flush of
     * the last 5 minutes. statsd keeps per-flush percentiles, not a histogram, so the app's p99 over 5 minutes cannot
     * be computed exactly; this is never below it (each part of a whole has at most 1 % of its requests above its
     * own p99, so at most 1 % of the whole lies above the highest of them), and it reads statsd's rank rounding as
     * statsd does. No request in the window: no value.
     */
    latencyP99Seconds: `alias(scale(movingMax(maxSeries(${p.requestTimers}.*.*.*.upper_${quantilePercent(0.99)}), '${window}'), 0.001), 'p99_seconds')`,
    /**
     * How many info reports the app sent in the last minute: the Graphite style sends them as a counter, which statsd
     * writes as 0 in a flush without one (a gauge it would repeat until it restarts). 0 when none; an app that never
     * reported since Graphite's data began has no path: no series.
     */
    infoReports: `alias(transformNull(movingSum(sumSeries(${p.info}.${graphiteSegment(appName)}.*), '${graphiteInterval(INFO_WINDOW_SECONDS * 1000)}'), 0), 'info_reports')`,
    /**
     * The most stats (counters, timers, gauges, sets) statsd wrote in a flush of the last minute: every name it holds,
     * since it writes each until it expires (graphiteOwnMetricsExpiry), each one a whisper file or several. Over a
     * minute, because the newest 10 s slot is empty until statsd's next flush writes it: its last point alone would
     * read as 0 half the time.
     */
    seriesHeld: `alias(movingMax(${STATSD_OWN_PATHS.statsPerFlush}, '${graphiteInterval(SERIES_WINDOW_SECONDS * 1000)}'), 'stats_per_flush')`,
  };
}

/** Grafana's state for a rule whose query returns no series, or fails. */
export type NoDataState = "NoData" | "Alerting" | "OK" | "KeepLast";
export type ExecErrState = "Error" | "Alerting" | "OK" | "KeepLast";

/** One entry of a rule's `data`: a datasource query (A) or a server-side expression (B, C). */
export interface AlertQuery {
  readonly refId: string;
  /** Datasource queries only: seconds before the evaluation time, `from` > `to`. */
  readonly relativeTimeRange?: { readonly from: number; readonly to: number };
  readonly datasourceUid: string;
  readonly model: Readonly<Record<string, unknown>>;
}

/** A Grafana-managed alert rule as its provisioning file spells it. */
export interface GrafanaAlertRule {
  readonly uid: string;
  readonly title: string;
  readonly condition: string;
  readonly data: readonly AlertQuery[];
  readonly noDataState: NoDataState;
  readonly execErrState: ExecErrState;
  readonly for: string;
  /** The app's name on the service alerts; none on the pipeline's own (it is not one app's). */
  readonly labels: { readonly severity: string; readonly [APP_LABEL]?: string };
  readonly annotations: { readonly summary: string; readonly description: string };
  readonly isPaused: false;
}

export interface GrafanaAlertingArgs {
  /** The stack's app (config `appName`): the rules watch it, and label their alerts with it. */
  readonly appName: string;
  /** Config `metricPrefix`: where the app's metrics are in Graphite. */
  readonly metricPrefix: string;
  readonly thresholds: AlertThresholds;
  /** Notification timers (config alertGroupWait, ...), used with {@link webhook}. */
  readonly routing: AlertRouting;
  /**
   * Whether the stack has a webhook URL (config `alertWebhookUrl`). Without one no contact point or policy is
   * provisioned: Grafana keeps its built-in ones, whose email contact point cannot send without SMTP (not set up
   * here), so alerts are shown in Grafana and sent nowhere.
   */
  readonly webhook: boolean;
}

/** The reference letters of a rule's three steps. */
export const REF = { query: "A", reduce: "B", threshold: "C" } as const;

const expression = (refId: string, model: Record<string, unknown>): AlertQuery => ({
  refId,
  datasourceUid: EXPRESSION_DATASOURCE,
  model: { refId, ...model, datasource: { type: EXPRESSION_DATASOURCE, uid: EXPRESSION_DATASOURCE } },
});

/** A: the Graphite query; B: its last point; C: B compared with the threshold. */
function steps(target: string, evaluator: { type: "gt" | "lt"; params: [number] }): AlertQuery[] {
  return [
    {
      refId: REF.query,
      relativeTimeRange: { from: QUERY_RANGE_SECONDS, to: 0 },
      datasourceUid: DATASOURCE_UIDS.graphite,
      model: {
        refId: REF.query,
        target,
        datasource: { type: "graphite", uid: DATASOURCE_UIDS.graphite },
        intervalMs: STATSD_FLUSH_SECONDS * 1000,
        maxDataPoints: QUERY_MAX_DATA_POINTS,
      },
    },
    // The last point is null only when the window held nothing at all (no traffic; for the info gauge,
    // transformNull already made it 0): read as 0, which is below every threshold of the two service rules.
    expression(REF.reduce, { type: "reduce", expression: REF.query, reducer: "last", settings: { mode: "replaceNN", replaceWithValue: 0 } }),
    expression(REF.threshold, { type: "threshold", expression: REF.reduce, conditions: [{ evaluator }] }),
  ];
}

/** The graphite topology's alerts: the service alerts, then the pipeline's own. */
export const GRAFANA_ALERTS = [...SERVICE_ALERTS, "StatsdSeriesFlood"] as const;
export type GrafanaAlert = (typeof GRAFANA_ALERTS)[number];

/** The rule's uid: fixed, so a new deployment updates the rule in place. At most 40 characters (Grafana's limit). */
export const ruleUid = (alert: GrafanaAlert) => `statsd-stack-${alert}`;

/** The graphite topology's alerts as Grafana rules, named, labelled and thresholded as the exporter topology's. */
export function grafanaAlertRules({ appName, metricPrefix, thresholds: t }: Omit<GrafanaAlertingArgs, "routing" | "webhook">): GrafanaAlertRule[] {
  const q = graphiteAlertQueries(metricPrefix, appName);
  const p = graphitePaths(metricPrefix);
  // Severities are the exporter topology's, read from its rules so the two cannot differ.
  const severity = Object.fromEntries(alertingRules({ appName, thresholds: t }).map((r) => [r.alert, r.labels.severity]));
  const value = `$values.${REF.reduce}.Value`;
  const rule = (alert: GrafanaAlert, r: Omit<GrafanaAlertRule, "uid" | "title" | "condition" | "labels" | "isPaused">): GrafanaAlertRule => ({
    uid: ruleUid(alert),
    title: alert,
    condition: REF.threshold,
    ...r,
    labels: (SERVICE_ALERTS as readonly string[]).includes(alert) ? { severity: severity[alert]!, [APP_LABEL]: appName } : { severity: severity[alert]! },
    isPaused: false,
  });
  const percent = `${Number((t.serverErrorRatio * 100).toPrecision(12))}%`;
  return [
    rule("AppHighServerErrorRatio", {
      data: steps(q.serverErrorRatio, { type: "gt", params: [t.serverErrorRatio] }),
      // No series: the app has answered no request since Graphite's data began, so there is no ratio to judge (as
      // in Prometheus, where the ratio is absent); AppNotReporting tells a silent app. A failing query (graphite-web
      // down) is the pipeline's problem, not the app's: Error raises Grafana's DatasourceError alert instead.
      noDataState: "OK",
      execErrState: "Error",
      for: t.serverErrorFor,
      annotations: {
        summary: `${appName} answers {{ humanizePercentage ${value} }} of requests with a server error (5xx)`,
        description:
          `The share of ${appName}'s requests answered 5xx over ${RULE_WINDOW} (${p.requestCounts}.<route>.<method>.5xx over all of ` +
          `${p.requestCounts}) is {{ humanizePercentage ${value} }}: it has been above ${percent} for ${t.serverErrorFor}.`,
      },
    }),
    rule("AppHighLatencyP99", {
      data: steps(q.latencyP99Seconds, { type: "gt", params: [t.latencyP99Seconds] }),
      // As for the error ratio: no request, no latency to judge; a failing query is a DatasourceError.
      noDataState: "OK",
      execErrState: "Error",
      for: t.latencyFor,
      annotations: {
        summary: `${appName}'s 99th percentile latency is {{ humanizeDuration ${value} }}`,
        description:
          `The highest 99th percentile of ${catalog.requestDuration.key} that statsd computed for any route of ${appName} in a flush of ` +
          `the last ${RULE_WINDOW} (${p.requestTimers}.<route>.<method>.<status>.upper_99) is {{ humanizeDuration ${value} }}: ` +
          `it has been above ${t.latencyP99Seconds}s for ${t.latencyFor}.`,
      },
    }),
    rule("AppNotReporting", {
      data: steps(q.infoReports, { type: "lt", params: [1] }),
      // No series at all: the app has not reported since Graphite's data began (a stack whose app never started),
      // which is what this alert is for.
      noDataState: "Alerting",
      execErrState: "Error",
      for: APP_NOT_REPORTING_FOR,
      annotations: {
        summary: `${appName} is not reporting metrics`,
        description:
          `${p.info}.${graphiteSegment(appName)}.<version> has counted no report for ${INFO_WINDOW_SECONDS}s, for ${APP_NOT_REPORTING_FOR} ` +
          `({{ ${value} }} reports in the last minute; the app re-sends its info metric every 15s). ` +
          "It is down, or cannot reach statsd's StatsD port.",
      },
    }),
    rule("StatsdSeriesFlood", {
      data: steps(q.seriesHeld, { type: "gt", params: [t.seriesFlood] }),
      // statsd writes numStats every flush, with or without traffic: no series means statsd is not flushing at all,
      // which the other rules' queries see too; this one judges only the count.
      noDataState: "OK",
      execErrState: "Error",
      for: SERIES_FLOOD_FOR,
      annotations: {
        summary: `statsd holds {{ humanize ${value} }} stats`,
        description:
          `${STATSD_OWN_PATHS.statsPerFlush} = {{ humanize ${value} }}: statsd has written more than ${t.seriesFlood} stats ` +
          `(alertSeriesFlood) in a flush of each minute for ${SERIES_FLOOD_FOR}. A sender is creating new metric names; statsd ` +
          "keeps each until graphiteOwnMetricsExpiry, and carbon a whisper file for each until graphiteOwnMetricsPruneAfter. " +
          "Find them in graphite-web's metric tree.",
      },
    }),
  ];
}

/** The rules' provisioning file: one group, evaluated every statsd flush, in the dashboards' folder. */
export function grafanaAlertRulesFile(args: Omit<GrafanaAlertingArgs, "routing" | "webhook">) {
  return {
    apiVersion: 1,
    groups: [{ orgId: 1, name: RULE_GROUPS.alerting, folder: ALERT_FOLDER, interval: ALERT_EVALUATION_INTERVAL, rules: grafanaAlertRules(args) }],
  };
}

/**
 * The webhook contact point and the notification policy tree that sends every alert to it, grouped and timed as
 * Alertmanager's route on the exporter topology (pipeline/alertmanager.ts). The URL is a reference to
 * {@link WEBHOOK_URL_ENV}, which Grafana expands when it reads the file.
 */
export function grafanaNotificationsFile(routing: AlertRouting) {
  return {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: WEBHOOK_CONTACT_POINT,
        receivers: [
          {
            uid: WEBHOOK_CONTACT_POINT,
            type: "webhook",
            settings: { url: `\${${WEBHOOK_URL_ENV}}`, httpMethod: "POST" },
            // Resolved notifications too, as Alertmanager's send_resolved.
            disableResolveMessage: false,
          },
        ],
      },
    ],
    // The root of the policy tree (a provisioned tree replaces Grafana's whole default one).
    policies: [
      {
        orgId: 1,
        receiver: WEBHOOK_CONTACT_POINT,
        group_by: [...ALERT_GROUP_BY],
        group_wait: routing.groupWait,
        group_interval: routing.groupInterval,
        repeat_interval: routing.repeatInterval,
      },
    ],
  };
}

const header = "# Generated by pipeline/grafana-alerting.ts from the metric catalog and the stack config; do not edit.\n";

/**
 * The files to place in {@link GRAFANA_ALERTING_DIR}, by file name: the rules, and with a webhook the contact point
 * and policy.
 */
export function grafanaAlertingFiles(args: GrafanaAlertingArgs): Record<string, string> {
  const yaml = (body: unknown) => `${header}${stringify(body, { lineWidth: 0 })}`;
  return {
    "statsd-stack-rules.yaml": yaml(grafanaAlertRulesFile(args)),
    ...(args.webhook ? { "statsd-stack-notifications.yaml": yaml(grafanaNotificationsFile(args.routing)) } : {}),
  };
}
