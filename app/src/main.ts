/** Entry point: validate the environment, serve, and shut down gracefully on SIGTERM/SIGINT. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "./config";
import { createRecorder } from "./metrics/recorder";
import { createServer } from "./server";

function appVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "0.0.0";
}

function main(): void {
  const log = (line: string) => console.log(line);
  let config;
  try {
    config = loadConfig(process.env, appVersion());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sample-api: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }

  const recorder = createRecorder(config, log);
  const server = createServer({ recorder, limits: config.limits, log: (line) => console.error(line) });
  server.listen(config.port, () => {
    const metrics = config.metricsEnabled
      ? `${config.metricsStyle} StatsD to ${config.statsdHost}:${config.statsdPort} (prefix ${config.metricPrefix})`
      : "metrics off";
    const { limits } = config;
    const limitsText =
      `request ${limits.requestTimeoutMs / 1000} s, headers ${limits.headersTimeoutMs / 1000} s, ` +
      `keep-alive ${limits.keepAliveTimeoutMs / 1000} s, ${limits.maxHeaderBytes} header bytes, ` +
      `${limits.maxConnections} connections`;
    log(`sample-api ${config.appVersion} listening on :${config.port}; ${metrics}; limits: ${limitsText}`);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: no new connections; waiting up to ${config.shutdownTimeoutMs} ms for in-flight requests`);
    const force = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      void recorder.close().then(() => {
        log("stopped");
        process.exit(0);
      });
    });
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main();
