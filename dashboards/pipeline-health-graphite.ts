/**
 * The graphite topology's "Pipeline health" dashboard: what statsd receives and flushes, and what carbon receives,
 * writes, creates and drops. It reads statsd's and carbon's own stats only (paths in pipeline/graphite.ts), so it has
 * no variable: it shows the pipeline whatever app sends to it.
 */
import { CARBON_AGENTS, CARBON_OWN_METRICS, MAX_CREATES_PER_MINUTE, STATSD_OWN_PATHS } from "../pipeline/graphite";
import { DATASOURCE_UIDS } from "../pipeline/settings";
import { dashboard, type Dashboard, type DatasourceRef } from "./model";

export const GRAPHITE_HEALTH_DASHBOARD_UID = "statsd-stack-pipeline-graphite";
const ds: DatasourceRef = { type: "graphite", uid: DATASOURCE_UIDS.graphite };

/** One of carbon's self-metrics, summed over every carbon agent (one here; the name differs between hosts). */
const carbon = (metric: string) => `sumSeries(${CARBON_AGENTS}.${metric})`;
/**
 * carbon reports counts per report (every 10 s; storage-aggregation.conf sums them into the coarser archives):
 * scaleToSeconds divides by each point's own interval, so the rate is right in any archive.
 */
const perSecond = (series: string) => `scaleToSeconds(${series}, 1)`;
const perMinute = (series: string) => `scaleToSeconds(${series}, 60)`;
/** A count over the range: merged points must be summed, not averaged (see dashboards/graphite.ts). */
const inRange = (series: string) => `consolidateBy(${series}, 'sum')`;

export function graphiteHealthDashboard(): Dashboard {
  const s = STATSD_OWN_PATHS;
  const c = CARBON_OWN_METRICS;
  return dashboard({
    uid: GRAPHITE_HEALTH_DASHBOARD_UID,
    title: "Pipeline health (StatsD + Graphite)",
    description: "What statsd receives, rejects and flushes; what carbon receives, writes, creates and drops.",
    backend: "graphite",
    datasource: ds,
    variables: [],
    panels: [
      {
        type: "stat",
        title: "StatsD packets received in range",
        description: "UDP datagrams statsd received during the dashboard's time range, from every sender.",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        reducer: "sum",
        targets: [{ refId: "A", target: inRange(s.packetsPerFlush) }],
      },
      {
        type: "stat",
        title: "StatsD bad lines in range",
        description: "Lines statsd could not parse during the range, and dropped: 0 unless a sender writes malformed StatsD.",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        reducer: "sum",
        targets: [{ refId: "A", target: inRange(s.badLinesPerFlush) }],
      },
      {
        type: "stat",
        title: "Carbon dropped creates in range",
        description: `Points carbon dropped during the range because their series' new whisper file was over the limit of ${MAX_CREATES_PER_MINUTE} creates a minute: 0 on a healthy pipeline.`,
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        reducer: "sum",
        targets: [{ refId: "A", target: inRange(carbon(c.droppedCreates)) }],
      },
      {
        type: "stat",
        title: "Carbon cache size",
        description: "Points carbon holds in memory, not yet written to disk, at its last report: near 0 when carbon keeps up.",
        w: 6,
        h: 5,
        unit: "short",
        decimals: 0,
        reducer: "lastNotNull",
        // Merged points keep the last report, not an average of the range.
        targets: [{ refId: "A", target: `consolidateBy(${carbon(c.cacheSize)}, 'last')` }],
      },
      {
        type: "timeseries",
        title: "StatsD packets and lines received",
        description:
          "UDP datagrams and the StatsD lines in them, per second (lines above packets: senders pack several lines per datagram), and the datagrams the kernel dropped because statsd's receive buffer was full: 0 unless senders outrun statsd.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [
          { refId: "A", target: `alias(${s.packetsPerSecond}, 'UDP packets')` },
          { refId: "B", target: `alias(${s.linesPerSecond}, 'lines')` },
          { refId: "C", target: `alias(${s.receiveBufferDropsPerSecond}, 'dropped: receive buffer full')` },
        ],
      },
      {
        type: "timeseries",
        title: "StatsD bad lines",
        description: "Lines per second statsd could not parse and dropped (its log names each): 0 on a healthy pipeline.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [{ refId: "A", target: `alias(${s.badLinesPerSecond}, 'bad lines')` }],
      },
      {
        type: "timeseries",
        title: "StatsD stats per flush",
        description: "Stats (counters, timers, gauges, sets) statsd writes to carbon at each flush: grows with every new metric name.",
        w: 12,
        h: 8,
        unit: "short",
        targets: [{ refId: "A", target: `alias(${s.statsPerFlush}, 'stats')` }],
      },
      {
        type: "timeseries",
        title: "StatsD flush time and lag",
        description: "How long statsd's last flush took to reach carbon, and how late the flush ran behind its schedule.",
        w: 12,
        h: 8,
        unit: "ms",
        targets: [
          { refId: "A", target: `alias(${s.flushTimeMs}, 'flush to carbon')` },
          // statsd reports the lag in seconds.
          { refId: "B", target: `alias(scale(${s.timestampLagSeconds}, 1000), 'flush lag')` },
        ],
      },
      {
        type: "timeseries",
        title: "Carbon points received and committed",
        description: "Points per second carbon received and wrote to whisper files: committed below received for long means the cache grows.",
        w: 12,
        h: 8,
        unit: "cps",
        targets: [
          { refId: "A", target: `alias(${perSecond(carbon(c.metricsReceived))}, 'received')` },
          { refId: "B", target: `alias(${perSecond(carbon(c.committedPoints))}, 'committed')` },
        ],
      },
      {
        type: "timeseries",
        title: "Carbon creates, dropped creates and errors",
        description:
          "Per minute: new whisper files created (one per new series), points dropped because a new file was over the create limit, failed writes.",
        w: 12,
        h: 8,
        unit: "cpm",
        targets: [
          { refId: "A", target: `alias(${perMinute(carbon(c.creates))}, 'creates')` },
          { refId: "B", target: `alias(${perMinute(carbon(c.droppedCreates))}, 'dropped creates')` },
          { refId: "C", target: `alias(${perMinute(carbon(c.errors))}, 'write errors')` },
        ],
      },
      {
        type: "timeseries",
        title: "Carbon cache",
        description: "Points held in carbon's cache and the series they belong to, not yet written to disk: near 0 when carbon keeps up.",
        w: 24,
        h: 8,
        unit: "short",
        targets: [
          { refId: "A", target: `alias(${carbon(c.cacheSize)}, 'points')` },
          { refId: "B", target: `alias(${carbon(c.cacheQueues)}, 'series')` },
        ],
      },
    ],
  });
}
