/**
 * The exporter topology's "Pipeline health" dashboard: whether statsd_exporter receives, maps and keeps what is sent,
 * whether Prometheus scrapes it, and how Prometheus ingests and evaluates its rules. It reads the daemons' own
 * metrics only (named in pipeline/exporter.ts and pipeline/prometheus.ts), so it has no variable: it shows the
 * pipeline whatever app sends to it.
 */
import { EXPORTER_LOSS_COUNTERS, EXPORTER_OWN_METRICS } from "../pipeline/exporter";
import { EXPORTER_JOB, PROMETHEUS_JOB, PROMETHEUS_OWN_METRICS, SCRAPE_SERIES } from "../pipeline/prometheus";
import { DATASOURCE_UIDS } from "../pipeline/settings";
import { dashboard, type Dashboard, type DatasourceRef, type Target } from "./model";

export const EXPORTER_HEALTH_DASHBOARD_UID = "statsd-stack-pipeline-exporter";
const ds: DatasourceRef = { type: "prometheus", uid: DATASOURCE_UIDS.prometheus };

/** A metric scraped from statsd_exporter, or from Prometheus itself. */
const exporter = (metric: string, matchers = "") => `${metric}{job="${EXPORTER_JOB}"${matchers}}`;
const prometheus = (metric: string) => `${metric}{job="${PROMETHEUS_JOB}"}`;

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
/** Exact, as on the app dashboard: no extrapolation, and a new series' first value counts (see dashboards/prometheus.ts). */
const inRange = (selector: string) => `increase(${selector}[$__range] anchored)`;
/** A labelled counter has no series until its first event: read 0 then, not "No data". */
const orZero = (expr: string) => `(${expr} or vector(0))`;
/** `rule_group` is `<rule file>;<group name>`: the legend shows the group's name only. */
const byGroupName = (expr: string) => `label_replace(${expr}, "group", "$1", "rule_group", ".*;(.*)")`;

/** What each loss counter is called on the dashboard. */
const LOSS_LEGENDS: Readonly<Record<(typeof EXPORTER_LOSS_COUNTERS)[number], string>> = {
  statsd_exporter_udp_packet_drops_total: "UDP packets dropped",
  statsd_exporter_sample_errors_total: "malformed samples",
  statsd_exporter_tag_errors_total: "malformed tags",
  statsd_exporter_events_conflict_total: "type conflicts",
};

const lossTargets: Target[] = EXPORTER_LOSS_COUNTERS.map((counter, i) => ({
  refId: String.fromCharCode(65 + i),
  expr: orZero(`sum(${rate(exporter(counter))})`),
  legendFormat: LOSS_LEGENDS[counter],
}));

export function exporterHealthDashboard(): Dashboard {
  const m = EXPORTER_OWN_METRICS;
  const p = PROMETHEUS_OWN_METRICS;
  return dashboard({
    uid: EXPORTER_HEALTH_DASHBOARD_UID,
    title: "Pipeline health (statsd_exporter + Prometheus)",
    description:
      "What statsd_exporter receives, maps, holds and loses; whether Prometheus scrapes it; Prometheus's ingestion and rule evaluation.",
    backend: "prometheus",
    datasource: ds,
    variables: [],
    panels: [
      {
        type: "stat",
        title: "statsd_exporter up",
        description: "1 when Prometheus's last scrape of statsd_exporter succeeded, 0 when it failed (then every app's metrics stop).",
        w: 6,
        h: 5,
        unit: "none",
        decimals: 0,
        targets: [{ refId: "A", expr: `min(${SCRAPE_SERIES.up}{job="${EXPORTER_JOB}"})`, instant: true }],
      },
      {
        type: "stat",
        title: "StatsD lines received in range",
        description: "StatsD lines statsd_exporter received during the dashboard's time range, from every sender.",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        targets: [{ refId: "A", expr: `sum(${inRange(exporter(m.lines))})`, instant: true }],
      },
      {
        type: "stat",
        title: "Drops and errors in range",
        description:
          "UDP packets dropped, malformed samples, malformed DogStatsD tags and type conflicts during the range: 0 on a healthy pipeline. The panel below tells which.",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        targets: [
          { refId: "A", expr: EXPORTER_LOSS_COUNTERS.map((c) => orZero(`sum(${inRange(exporter(c))})`)).join(" + "), instant: true },
        ],
      },
      {
        type: "stat",
        title: "Rule evaluation failures in range",
        description: "Failed evaluations of the recording and alerting rules during the range: 0 unless a rule is broken (Prometheus's /rules page tells which).",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        targets: [{ refId: "A", expr: `sum(${inRange(prometheus(p.ruleEvaluationFailures))})`, instant: true }],
      },
      {
        type: "timeseries",
        title: "StatsD packets and lines received",
        description: "UDP datagrams and the StatsD lines in them, per second: lines above packets means senders pack several lines per datagram.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [
          { refId: "A", expr: `sum(${rate(exporter(m.udpPackets))})`, legendFormat: "UDP packets" },
          { refId: "B", expr: `sum(${rate(exporter(m.lines))})`, legendFormat: "lines" },
        ],
      },
      {
        type: "timeseries",
        title: "Events by type",
        description: "StatsD events per second (one per value of a line), by metric type: observer is a timer or histogram.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [{ refId: "A", expr: `sum by (type) (${rate(exporter(m.events))})`, legendFormat: "{{type}}" }],
      },
      {
        type: "timeseries",
        title: "Mapped and unmapped events",
        description:
          "Events per second the catalog's mapping matched, and events no mapping matched: those pass through under their own names (a team's own metrics), they are not lost.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [
          { refId: "A", expr: orZero(`sum(${rate(exporter(m.eventActions, ', action="map"'))})`), legendFormat: "mapped" },
          { refId: "B", expr: `sum(${rate(exporter(m.eventsUnmapped))})`, legendFormat: "unmapped" },
        ],
      },
      {
        type: "timeseries",
        title: "Drops and errors",
        description:
          "Per second, by kind: UDP packets dropped (the exporter cannot keep up), malformed samples and DogStatsD tags (a sender writes bad lines), type conflicts (one name sent as two types). All 0 on a healthy pipeline.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: lossTargets,
      },
      {
        type: "timeseries",
        title: "Series held by statsd_exporter",
        description: "Metric series statsd_exporter holds and serves at each scrape, by type: grows with every new label value.",
        w: 12,
        h: 8,
        unit: "short",
        targets: [{ refId: "A", expr: `sum by (type) (${exporter(m.series)})`, legendFormat: "{{type}}" }],
      },
      {
        type: "timeseries",
        title: "Scrape health",
        description: "Per scrape job (every job Prometheus scrapes): 1 when the last scrape succeeded, 0 when it failed.",
        w: 12,
        h: 8,
        unit: "none",
        targets: [{ refId: "A", expr: `min by (job) (${SCRAPE_SERIES.up})`, legendFormat: "{{job}}" }],
      },
      {
        type: "timeseries",
        title: "Scrape duration",
        description: "How long each scrape took, per job; a scrape longer than the scrape interval fails.",
        w: 12,
        h: 8,
        unit: "s",
        targets: [{ refId: "A", expr: `max by (job) (${SCRAPE_SERIES.scrapeDuration})`, legendFormat: "{{job}}" }],
      },
      {
        type: "timeseries",
        title: "Samples per scrape",
        description: "Samples each scrape returned, per job: the series count Prometheus ingests from each target.",
        w: 12,
        h: 8,
        unit: "short",
        targets: [{ refId: "A", expr: `sum by (job) (${SCRAPE_SERIES.scrapeSamples})`, legendFormat: "{{job}}" }],
      },
      {
        type: "timeseries",
        title: "Prometheus samples ingested",
        description: "Samples per second Prometheus writes to its head block, from every scrape and recording rule.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [{ refId: "A", expr: `sum(${rate(prometheus(p.samplesAppended))})`, legendFormat: "samples" }],
      },
      {
        type: "timeseries",
        title: "Prometheus head series",
        description: "Series in Prometheus's head block (about the last two hours): what memory and storage grow with.",
        w: 12,
        h: 8,
        unit: "short",
        targets: [{ refId: "A", expr: `sum(${prometheus(p.headSeries)})`, legendFormat: "series" }],
      },
      {
        type: "timeseries",
        title: "Rule evaluations and failures",
        description: "Rule evaluations per second and failed ones, per rule group; a failing group's recorded series and alerts are missing.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [
          { refId: "A", expr: byGroupName(`sum by (rule_group) (${rate(prometheus(p.ruleEvaluations))})`), legendFormat: "{{group}}" },
          { refId: "B", expr: byGroupName(`sum by (rule_group) (${rate(prometheus(p.ruleEvaluationFailures))})`), legendFormat: "{{group}} failures" },
        ],
      },
      {
        type: "timeseries",
        title: "Rule group evaluation time",
        description: "How long each rule group's last evaluation took; one longer than the evaluation interval misses evaluations.",
        w: 12,
        h: 8,
        unit: "s",
        targets: [{ refId: "A", expr: byGroupName(`max by (rule_group) (${prometheus(p.ruleGroupDuration)})`), legendFormat: "{{group}}" }],
      },
    ],
  });
}
