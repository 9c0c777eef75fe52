/**
 * What a deployed backend has stored, read the same way before and after a disruption (a rollout, a deleted pod, a
 * restarted daemon) and expected equal. The known load is a probe counter sent through the stack's StatsD port; the
 * figures are read over a window that had ended before the disruption, so time passing changes nothing in them:
 * only lost or rewritten data does.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../../app/src/tools/wait";
import { GraphiteApi, PrometheusApi, sumPoints } from "../../scripts/checks/backends";
import { sendStatsd } from "./udp";

/** The known load: this many datagrams of one counter line each. */
export const PROBE = { name: "storage_probe", value: 7, lines: 20 } as const;
/** What the probe adds up to when every line was counted. */
export const PROBE_TOTAL = PROBE.value * PROBE.lines;
const VISIBLE_WITHIN_MS = 120_000;

/** The figures compared: the probe's total over the ended window, and the series the backend holds for it. */
export interface StoredFigures {
  /** The probe counter's total as the backend answers it for the window. */
  readonly probeTotal: number;
  /**
   * exporter: how many series Prometheus has a sample of in the 5 minutes before the window's end (every series of
   * the stack: the app's, statsd_exporter's, Prometheus's own). graphite: every whisper file present at the
   * reading (series files are never removed by the stack, so "before" must be contained in "after").
   */
  readonly series: number | readonly string[];
}

/** A backend the figures are read from. */
export interface StoredSeriesReader {
  /** Sends the probe and waits until the backend answers its full total; fixes the window's end. */
  sendProbe(): Promise<void>;
  /** The figures over the fixed window, as the backend answers now. */
  read(): Promise<StoredFigures>;
}

/**
 * Reads again while the backend cannot be reached, for at most `timeoutMs`: a replaced pod is ready moments before
 * its NodePort route is (kube-proxy follows the endpoints). A reading that answers is returned as it is.
 */
async function whenReachable<T>(read: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(1000);
    }
  }
}

async function sendProbeLines(statsdPort: number, line: string): Promise<void> {
  for (let i = 0; i < PROBE.lines; i++) {
    await sendStatsd(statsdPort, line);
    // Spaced, so the ingest's socket never holds more than one at a time.
    await sleep(5);
  }
}

/** Prometheus behind statsd_exporter: the probe's DogStatsD line becomes an unmapped counter. */
export function prometheusStoredSeries(prometheusUrl: string, statsdPort: number): StoredSeriesReader {
  const api = new PrometheusApi(prometheusUrl);
  const probeQuery = `sum({__name__=~"${PROBE.name}.*"})`;
  let end: number | undefined;
  const total = async (at?: number) => (await api.query(probeQuery, at))[0]?.value ?? 0;
  return {
    async sendProbe() {
      await sendProbeLines(statsdPort, `${PROBE.name}:${PROBE.value}|c|#probe:storage`);
      if (!(await waitFor(async () => (await total()) === PROBE_TOTAL, VISIBLE_WITHIN_MS, 1000))) {
        throw new Error(`Prometheus never answered ${probeQuery} = ${PROBE_TOTAL} (last: ${await total()})`);
      }
      // The sample just seen is stamped up to now, in milliseconds: the window ends at the next whole second. The
      // figures are read once it is past, and past any scrape that began before it, so later samples change nothing.
      end = Math.ceil(Date.now() / 1000);
      await sleep(end * 1000 - Date.now() + 2000);
    },
    async read() {
      if (end === undefined) throw new Error("sendProbe() first");
      const series = await whenReachable(async () => (await api.query('count({__name__=~".+"})', end))[0]?.value ?? 0);
      return { probeTotal: await whenReachable(() => total(end)), series };
    },
  };
}

/**
 * graphite-web over carbon's whisper files: the probe's plain StatsD line is written by statsd to
 * `stats_counts.<probe>` at each flush. `listWhisperFiles` runs `find` in the graphite container or pod. The URL is
 * asked for at each reading: a stack deployed again may be on other NodePorts.
 */
export function graphiteStoredSeries(graphiteUrl: () => string, statsdPort: number, listWhisperFiles: () => Promise<string>): StoredSeriesReader {
  const target = `stats_counts.${PROBE.name}`;
  let start = 0;
  let end: number | undefined;
  // graphite-web caches a render for 60 s by its parameters: a new maxDataPoints per reading (always more than the
  // window's points, so nothing is consolidated) asks carbon's files every time.
  let reading = 0;
  const total = async (until?: number) =>
    sumPoints(await new GraphiteApi(graphiteUrl()).render(target, String(start), 100_000 + ++reading, until === undefined ? undefined : String(until)));
  return {
    async sendProbe() {
      start = Math.floor(Date.now() / 1000) - 60;
      await sendProbeLines(statsdPort, `${PROBE.name}:${PROBE.value}|c`);
      if (!(await waitFor(async () => (await total()) === PROBE_TOTAL, VISIBLE_WITHIN_MS, 2000))) {
        throw new Error(`graphite-web never answered ${target} summing to ${PROBE_TOTAL} (last: ${await total()})`);
      }
      end = Math.floor(Date.now() / 1000);
    },
    async read() {
      if (end === undefined) throw new Error("sendProbe() first");
      const files = (await whenReachable(listWhisperFiles)).split("\n").filter((l) => l.endsWith(".wsp")).sort();
      return { probeTotal: await whenReachable(() => total(end)), series: files };
    },
  };
}

/** The command that lists every whisper file in graphite-statsd's storage. */
export const LIST_WHISPER_FILES = ["find", "/opt/graphite/storage/whisper", "-name", "*.wsp"];

/**
 * Compares figures read after a disruption with those read before: the probe's total equal, Prometheus's series
 * count equal, every whisper file still there. Returns what differs, one line each; empty when nothing was lost.
 */
export function lostSince(before: StoredFigures, after: StoredFigures): string[] {
  const lost: string[] = [];
  if (after.probeTotal !== before.probeTotal) lost.push(`probe total ${before.probeTotal} before, ${after.probeTotal} after`);
  if (typeof before.series === "number") {
    if (after.series !== before.series) lost.push(`series ${before.series} before, ${String(after.series)} after`);
  } else {
    const now = new Set(after.series as readonly string[]);
    const gone = before.series.filter((f) => !now.has(f));
    if (gone.length > 0) lost.push(`${gone.length} of ${before.series.length} whisper files gone, e.g. ${gone.slice(0, 3).join(", ")}`);
  }
  return lost;
}

/**
 * What each named stack's backend lost since `stored` (read by its reader now), one line per loss prefixed with the
 * stack; empty when nothing was.
 */
export async function lostAcross(
  stacks: readonly string[],
  stored: Readonly<Record<string, StoredFigures>>,
  readers: Readonly<Record<string, StoredSeriesReader>>,
): Promise<string[]> {
  const found: string[] = [];
  for (const stack of stacks) for (const line of lostSince(stored[stack]!, await readers[stack]!.read())) found.push(`${stack}: ${line}`);
  return found;
}
