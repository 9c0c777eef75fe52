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
}

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

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `an integer from ${min} to ${max}`);
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
  };
}
