/**
 * Sends the catalog's metrics over StatsD/UDP with hot-shots, in either wire style.
 *
 * Sending must never hurt the service. Requests are aggregated in the process for a short window, as the official
 * DogStatsD clients do: a series' count goes out as one counter increment per window, and its latencies as packed
 * timer lines (many values per line, see ./packing), so a busy server sends a few bytes and almost no system calls per
 * request. hot-shots carries the lines: it batches them into datagrams, caches DNS, and hands every transport error to
 * a handler that logs each distinct problem once instead of once per request.
 */
import { StatsD } from "hot-shots";
import { APP_LABEL, catalog, REJECTED_ROUTE, wireType, type MetricDefinition } from "./catalog";
import { dogstatsdTags, graphiteKey } from "./names";
import { packTimerLines } from "./packing";
import type { AppConfig } from "../config";

/** One answered request, as measured by the server. */
export interface RequestMeasurement {
  readonly route: string;
  readonly method: string;
  readonly status: number;
  readonly durationMs: number;
}

/** One request the server refused before any handler ran (see {@link REJECTED_ROUTE}). */
export interface RejectedRequest {
  /** Already normalised: a known method or OTHER. */
  readonly method: string;
  readonly status: number;
}

export interface Recorder {
  /** Counts and times one request; its lines go out within {@link AGGREGATION_WINDOW_MS}. */
  request(measurement: RequestMeasurement): void;
  /**
   * Counts one refused request under the route {@link REJECTED_ROUTE}, without a latency: no handler ran, and Node
   * does not say when the refused request began. Its line goes out within {@link AGGREGATION_WINDOW_MS}.
   */
  rejected(request: RejectedRequest): void;
  /** Sends the info metric now (it is also re-sent on a timer): a gauge in the DogStatsD style, a counter in the Graphite style. */
  sendInfo(): void;
  /** Hands what the current window has aggregated to the client now, without waiting for the window to end. */
  flush(): void;
  /** Sends what the window and the buffer hold and releases the socket; resolves within `timeoutMs` even if the network hangs. */
  close(timeoutMs?: number): Promise<void>;
}

export type Logger = (line: string) => void;

/** Below a typical path MTU (1500 minus IP and UDP headers), so a batch is never fragmented. */
const MAX_DATAGRAM_BYTES = 1400;
const BUFFER_FLUSH_MS = 100;
/**
 * How long requests are aggregated before their lines are sent. Far below any StatsD flush (10 s) or Prometheus
 * scrape interval, so dashboards see no difference; long enough that a busy series sends one counter line per window.
 */
export const AGGREGATION_WINDOW_MS = 500;
/**
 * A series whose window has collected this many latencies sends them at once, about 5 full datagrams back to back.
 * Each send that finds the receiver asleep wakes it, which costs far more than the send itself (on a virtual machine,
 * more than the rest of the request); a short burst wakes it once. At about 7 kB a burst stays far below any UDP
 * receive buffer, so nothing is dropped for it.
 */
const MAX_PENDING_VALUES = 1000;

/**
 * hot-shots' `send(message)`: buffers a fully formed line, appending the client's tags. It is public and is what every
 * typed method ends in, but its type declarations leave it out.
 */
interface LineSender {
  send(message: string): void;
}

/** A recorder that does nothing: metrics switched off. */
export const disabledRecorder: Recorder = {
  request() {},
  rejected() {},
  sendInfo() {},
  flush() {},
  close: async () => {},
};

/** Logs each distinct transport error once, with how to read it; repeats are counted, not printed. */
function onceLogger(log: Logger, target: string) {
  const seen = new Map<string, number>();
  return {
    handler(err: Error): void {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      const count = seen.get(code) ?? 0;
      seen.set(code, count + 1);
      if (count === 0) {
        log(
          `statsd: cannot send to ${target} (${code}: ${err.message}); requests are unaffected, ` +
            `further ${code} errors are counted silently`,
        );
      }
    },
    summary(): string | undefined {
      if (seen.size === 0) return undefined;
      return `statsd: send errors to ${target}: ${[...seen].map(([code, n]) => `${code} x${n}`).join(", ")}`;
    },
  };
}

/** Tuning that tests and benchmarks may change; the defaults are what the app runs with. */
export interface RecorderOptions {
  /** How long requests are aggregated before their lines are sent (ms). */
  readonly aggregationWindowMs?: number;
}

export function createRecorder(config: AppConfig, log: Logger, options: RecorderOptions = {}): Recorder {
  if (!config.metricsEnabled) return disabledRecorder;
  const target = `${config.statsdHost}:${config.statsdPort}`;
  const errors = onceLogger(log, target);
  const dogstatsd = config.metricsStyle === "dogstatsd";

  const client = new StatsD({
    host: config.statsdHost,
    port: config.statsdPort,
    protocol: "udp",
    prefix: `${config.metricPrefix}.`,
    cacheDns: true,
    maxBufferSize: MAX_DATAGRAM_BYTES,
    bufferFlushInterval: BUFFER_FLUSH_MS,
    globalTags: dogstatsd ? { [APP_LABEL]: config.appName } : [],
    // Datadog mode switches on by itself when any DD_* variable is set and then adds fields (container id,
    // cardinality, client telemetry) that Etsy statsd and statsd_exporter do not expect: pin it off.
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    telegraf: false,
    errorHandler: errors.handler,
  });
  if (typeof (client as unknown as Partial<LineSender>).send !== "function") {
    // Fail at start-up, in every test, rather than drop latencies at run time after a hot-shots upgrade.
    throw new Error("hot-shots has no send(message): the timer lines cannot be sent; check the hot-shots version");
  }

  /**
   * A sender per series: in the DogStatsD style a child client whose tags are formatted and sanitised once, when the
   * series is first seen, instead of merged again on every call.
   */
  const sender = (metric: MetricDefinition, labels: Record<string, string>) => {
    if (!dogstatsd) return { client, stat: graphiteKey(metric, labels), tagBytes: 0 };
    const tags = dogstatsdTags(metric, labels);
    // What hot-shots appends to each line: `|#` and the global tag, then these.
    const tagBytes = Buffer.byteLength(`|#${APP_LABEL}:${config.appName},${tags.join(",")}`);
    return { client: client.childClient({ globalTags: tags }), stat: metric.key, tagBytes };
  };

  /** One (route, method, status): its senders and what the current window has collected for it. */
  interface Series {
    readonly counter: ReturnType<typeof sender>;
    readonly timer: ReturnType<typeof sender> & { readonly name: string; readonly maxValueBytes: number };
    count: number;
    /** Latencies collected this window: the first `pending` entries. Allocated once, so recording makes no garbage. */
    readonly durations: Float64Array;
    pending: number;
  }

  // The set is bounded: routes come from the route table, methods are normalised, statuses are the handful the app
  // answers with. Nested maps keyed by the values themselves: no key string is built per request.
  const series = new Map<string, Map<string, Map<number, Series>>>();
  // Every series in the order it was first seen, so that lines go out in a stable order.
  const seen: Series[] = [];
  const newSeries = (route: string, method: string, status: number): Series => {
    const labels = { route, method, status: String(status) };
    const timer = sender(catalog.requestDuration, labels);
    const name = `${config.metricPrefix}.${timer.stat}`;
    const maxValueBytes = MAX_DATAGRAM_BYTES - Buffer.byteLength(name) - timer.tagBytes - "|ms".length - 1;
    const created: Series = {
      counter: sender(catalog.requests, labels),
      timer: { ...timer, name, maxValueBytes },
      count: 0,
      durations: new Float64Array(MAX_PENDING_VALUES),
      pending: 0,
    };
    seen.push(created);
    return created;
  };
  const seriesFor = (route: string, method: string, status: number): Series => {
    let byMethod = series.get(route);
    if (!byMethod) series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let found = byStatus.get(status);
    if (!found) byStatus.set(status, (found = newSeries(route, method, status)));
    return found;
  };

  const sendDurations = (s: Series) => {
    const lineSender = s.timer.client as unknown as LineSender;
    const values = s.durations.subarray(0, s.pending);
    for (const line of packTimerLines(s.timer.name, values, config.metricsStyle, s.timer.maxValueBytes)) {
      lineSender.send(line);
    }
    s.pending = 0;
  };
  // Timer before counter for each series, so a reader of the wire sees a request's latency before its count.
  const flushWindow = () => {
    for (const s of seen) {
      if (s.pending > 0) sendDurations(s);
      if (s.count > 0) {
        s.counter.client.increment(s.counter.stat, s.count);
        s.count = 0;
      }
    }
  };
  const windowTimer = setInterval(flushWindow, options.aggregationWindowMs ?? AGGREGATION_WINDOW_MS);
  windowTimer.unref();

  const info = sender(catalog.info, { [APP_LABEL]: config.appName, version: config.appVersion });
  const infoType = wireType(catalog.info, config.metricsStyle);
  const sendInfo = {
    gauge: () => info.client.gauge(info.stat, 1),
    counter: () => info.client.increment(info.stat, 1),
    timer: () => info.client.timing(info.stat, 1),
  }[infoType];
  sendInfo();
  // A StatsD server that starts after the app, or restarts, learns the app's identity within one interval.
  const infoTimer = setInterval(sendInfo, config.infoIntervalMs);
  infoTimer.unref();

  return {
    request({ route, method, status, durationMs }) {
      const s = seriesFor(route, method, status);
      s.count++;
      s.durations[s.pending++] = durationMs;
      if (s.pending === MAX_PENDING_VALUES) sendDurations(s);
    },
    rejected({ method, status }) {
      seriesFor(REJECTED_ROUTE, method, status).count++;
    },
    sendInfo,
    flush: flushWindow,
    close(timeoutMs = 2000) {
      clearInterval(infoTimer);
      clearInterval(windowTimer);
      flushWindow();
      return new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, timeoutMs);
        deadline.unref();
        client.close(() => {
          clearTimeout(deadline);
          const summary = errors.summary();
          if (summary) log(summary);
          resolve();
        });
      });
    },
  };
}
