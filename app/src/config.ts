/** The app's settings, read from the environment and validated before anything starts. */
import {
  DEFAULT_APP_NAME,
  DEFAULT_INFO_INTERVAL_SECONDS,
  DEFAULT_METRIC_PREFIX,
  METRICS_STYLES,
  type MetricsStyle,
} from "./metrics/catalog";

export interface AppConfig {
  readonly port: number;
  readonly statsdHost: string;
  readonly statsdPort: number;
  readonly metricsStyle: MetricsStyle;
  /** False turns every metric call into a no-op (for benchmarks and for running without any StatsD server). */
  readonly metricsEnabled: boolean;
  readonly metricPrefix: string;
  readonly appName: string;
  readonly appVersion: string;
  readonly infoIntervalMs: number;
  /** How long SIGTERM waits for in-flight requests before closing them. */
  readonly shutdownTimeoutMs: number;
  /** What the HTTP server accepts from a client before refusing it (see {@link DEFAULT_SERVER_LIMITS}). */
  readonly limits: ServerLimits;
}

/**
 * The HTTP server's limits: how long a client may take to send a request, how long an idle connection is kept, how
 * large a request's headers may be, and how many connections are served at once. Every one is an environment
 * variable (see {@link loadConfig}); requests refused by them are counted under the route `rejected`.
 */
export interface ServerLimits {
  /** Node's `requestTimeout`: time from a request's first byte until all of it (headers and body) has arrived. */
  readonly requestTimeoutMs: number;
  /** Node's `headersTimeout`: time from a request's first byte until its headers are complete; at most the above. */
  readonly headersTimeoutMs: number;
  /** Node's `keepAliveTimeout`: how long a connection may wait idle for its next request before the app closes it. */
  readonly keepAliveTimeoutMs: number;
  /** Node's `maxHeaderSize`: the request line and headers together, in bytes. */
  readonly maxHeaderBytes: number;
  /** `server.maxConnections`: connections open at once; Node closes any further one as soon as it is accepted. */
  readonly maxConnections: number;
}

/**
 * The limits the app runs with unless the environment says otherwise: chosen for a production service, not Node's
 * defaults (no cap on connections, a 5-minute request timeout, a 60 s header timeout, a 5 s keep-alive).
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  // Node's requestTimeout ends when the whole request has arrived, not when it is answered: the handler's own time
  // (up to 5 s for /random_sleep) is not part of it. The API's requests are a few hundred bytes with no body, so 30 s
  // is ample for any real client and still lets a client that sends a body at a trickle hold a connection for 30 s
  // rather than Node's 300 s. It stays above the slowest endpoint anyway, so a proxy that times the whole exchange
  // with the same value cannot cut it.
  requestTimeoutMs: 30_000,
  // A request's headers usually fit one packet; 10 s leaves room for three TCP retransmissions (1 + 2 + 4 s), and a
  // slowloris client (headers sent a byte at a time) loses its connection after 10 s instead of Node's 60 s.
  headersTimeoutMs: 10_000,
  // Longer than the idle timeout of the load balancers and proxies usually put in front (AWS ALB 60 s, nginx's
  // upstream keepalive_timeout 60 s), so the proxy, not the app, closes an idle connection; the other way round, a
  // proxy can send a request on a connection the app is closing, and answers that client 502. Behind a proxy with a
  // longer idle timeout (Google Cloud's load balancers: 600 s) raise it above that (620 s).
  keepAliveTimeoutMs: 65_000,
  // Node's own default, written out: about twice what large cookies need; the app reads no header but Host.
  maxHeaderBytes: 16_384,
  // Measured: a connection costs Node 14 KiB, and 29 KiB while it holds headers just under the 16 KiB limit, so
  // 1,000 connections cost at most about 30 MiB, an eighth of the container's 256 MiB memory limit. Far more than
  // one CPU serves at once (every endpoint but the two that sleep answers within milliseconds; the benchmark opens
  // 50 connections), so only a flood of connections meets it.
  maxConnections: 1_000,
};

/** A bad environment value: the message names the variable, the value and what is accepted. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly accepted: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${accepted}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function readInt(env: Env, name: string, fallback: number, min: number, max: number, why = ""): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `an integer from ${min} to ${max}${why}`);
  }
  return value;
}

function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = raw.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(name, raw, `one of ${choices.join(", ")}`);
  }
  return value as T;
}

function readPattern(env: Env, name: string, fallback: string, pattern: RegExp, accepted: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!pattern.test(raw)) throw new ConfigError(name, raw, accepted);
  return raw;
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:]+\]?$/;

/** Reads the server limits; the headers timeout may not exceed the request timeout (Node refuses that too). */
function readLimits(env: Env): ServerLimits {
  const defaults = DEFAULT_SERVER_LIMITS;
  const requestTimeoutSeconds = readInt(env, "REQUEST_TIMEOUT_SECONDS", defaults.requestTimeoutMs / 1000, 1, 3600);
  const headersTimeoutSeconds = readInt(
    env,
    "HEADERS_TIMEOUT_SECONDS",
    Math.min(defaults.headersTimeoutMs / 1000, requestTimeoutSeconds),
    1,
    requestTimeoutSeconds,
    ` (at most REQUEST_TIMEOUT_SECONDS)`,
  );
  return {
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    headersTimeoutMs: headersTimeoutSeconds * 1000,
    keepAliveTimeoutMs: readInt(env, "KEEP_ALIVE_TIMEOUT_SECONDS", defaults.keepAliveTimeoutMs / 1000, 1, 3600) * 1000,
    maxHeaderBytes: readInt(env, "MAX_HEADER_BYTES", defaults.maxHeaderBytes, 1024, 1_048_576),
    maxConnections: readInt(env, "MAX_CONNECTIONS", defaults.maxConnections, 1, 1_000_000),
  };
}

/** Reads and validates the whole configuration; throws {@link ConfigError} on the first bad value. */
export function loadConfig(env: Env, appVersion: string): AppConfig {
  return {
    port: readInt(env, "PORT", 8000, 1, 65535),
    statsdHost: readPattern(env, "STATSD_HOST", "localhost", HOST, "a host name or IP address"),
    statsdPort: readInt(env, "STATSD_PORT", 8125, 1, 65535),
    metricsStyle: readChoice(env, "METRICS_STYLE", "graphite", METRICS_STYLES),
    metricsEnabled: readChoice(env, "METRICS_ENABLED", "true", ["true", "false"]) === "true",
    metricPrefix: readPattern(
      env,
      "METRIC_PREFIX",
      DEFAULT_METRIC_PREFIX,
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      "letters, digits and _ (not starting with a digit), e.g. sample_api",
    ),
    appName: readPattern(
      env,
      "APP_NAME",
      DEFAULT_APP_NAME,
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
      "1 to 63 letters, digits, _ or -, starting with a letter or digit",
    ),
    appVersion,
    infoIntervalMs: readInt(env, "INFO_INTERVAL_SECONDS", DEFAULT_INFO_INTERVAL_SECONDS, 1, 3600) * 1000,
    shutdownTimeoutMs: readInt(env, "SHUTDOWN_TIMEOUT_SECONDS", 10, 0, 300) * 1000,
    limits: readLimits(env),
  };
}
