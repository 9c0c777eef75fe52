/**
 * Sends the catalog's metrics over StatsD/UDP with hot-shots, in either wire style.
 *
 * Sending must never hurt the service: packets are batched (one UDP datagram per ~1.4 kB or 100 ms), DNS is cached,
 * and every transport error goes to a handler that logs each distinct problem once instead of once per request.
 */
import { StatsD } from "hot-shots";
import { APP_LABEL, catalog, type MetricDefinition } from "./catalog";
import { dogstatsdTags, graphiteKey } from "./names";
import type { AppConfig } from "../config";

/** One answered request, as measured by the server. */
export interface RequestMeasurement {
  readonly route: string;
  readonly method: string;
  readonly status: number;
  readonly durationMs: number;
}

export interface Recorder {
  request(measurement: RequestMeasurement): void;
  /** Sends the info gauge now (it is also re-sent on a timer). */
  sendInfo(): void;
  /** Flushes what is buffered and releases the socket; resolves within `timeoutMs` even if the network hangs. */
  close(timeoutMs?: number): Promise<void>;
}

export type Logger = (line: string) => void;

/** Below a typical path MTU (1500 minus IP and UDP headers), so a batch is never fragmented. */
const MAX_DATAGRAM_BYTES = 1400;
const BUFFER_FLUSH_MS = 100;

/** A recorder that does nothing: metrics switched off. */
export const disabledRecorder: Recorder = {
  request() {},
  sendInfo() {},
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

export function createRecorder(config: AppConfig, log: Logger): Recorder {
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

  /**
   * A sender per series: in the DogStatsD style a child client whose tags are formatted and sanitised once, when the
   * series is first seen, instead of merged again on every call.
   */
  const sender = (metric: MetricDefinition, labels: Record<string, string>): { client: StatsD; stat: string } =>
    dogstatsd
      ? { client: client.childClient({ globalTags: dogstatsdTags(metric, labels) }), stat: metric.key }
      : { client, stat: graphiteKey(metric, labels) };

  // Both request metrics of one (route, method, status), looked up once per request. The set is bounded: routes
  // come from the route table, methods are normalised, statuses are the handful the app answers with.
  const requestSenders = new Map<string, { timer: ReturnType<typeof sender>; counter: ReturnType<typeof sender> }>();
  const sendersFor = (route: string, method: string, status: number) => {
    const key = `${route} ${method} ${status}`;
    let found = requestSenders.get(key);
    if (!found) {
      const labels = { route, method, status: String(status) };
      found = { timer: sender(catalog.requestDuration, labels), counter: sender(catalog.requests, labels) };
      requestSenders.set(key, found);
    }
    return found;
  };

  const info = sender(catalog.info, { [APP_LABEL]: config.appName, version: config.appVersion });
  const sendInfo = () => info.client.gauge(info.stat, 1);
  sendInfo();
  // A StatsD server that starts after the app, or restarts, learns the app's identity within one interval.
  const infoTimer = setInterval(sendInfo, config.infoIntervalMs);
  infoTimer.unref();

  return {
    request({ route, method, status, durationMs }) {
      const { timer, counter } = sendersFor(route, method, status);
      timer.client.timing(timer.stat, Math.round(durationMs * 1000) / 1000);
      counter.client.increment(counter.stat, 1);
    },
    sendInfo,
    close(timeoutMs = 2000) {
      clearInterval(infoTimer);
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
