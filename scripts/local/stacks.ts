/**
 * The two topologies as local processes on 127.0.0.1, fed the exact files the components generate (host names and
 * ports rewritten to loopback, nothing else changed): the real app, statsd_exporter and Prometheus, or the real app,
 * Etsy statsd (npm `statsd`), carbon-cache and graphite-web (Debian's packages).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { DEFAULT_APP_NAME, DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { exporterArgs, exporterMappingYaml } from "../../pipeline/exporter";
import { carbonConf, statsdConfigJs, storageAggregationConf, storageSchemasConf } from "../../pipeline/graphite";
import { alertmanagerArgs, alertmanagerConfigYaml, type AlertRouting } from "../../pipeline/alertmanager";
import { PROMETHEUS_RULES_FILE, prometheusArgs, prometheusConfigYaml } from "../../pipeline/prometheus";
import { DEFAULT_ALERT_THRESHOLDS, prometheusRulesYaml, type AlertThresholds } from "../../pipeline/rules";
import { DEFAULT_GRAPHITE_OWN_METRICS_EXPIRY, statsdExpiryBackendJs, statsdExpirySettings } from "../../pipeline/statsd-expiry";
import { DEFAULT_STATSD_RECEIVE_BUFFER, statsdUdpDropsBackendJs, statsdUdpServerJs } from "../../pipeline/statsd-receive-buffer";
import { requireBinary } from "./binaries";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup, type RunningProcess } from "./processes";

const ROOT = path.join(__dirname, "..", "..");
/** graphite-web is installed for Debian's interpreter; the first python3 on PATH may be another one. */
const DEBIAN_PYTHON = "/usr/bin/python3";

/** The real programs each topology needs; a missing one skips (or, under CI, fails) the tests: see {@link requireBinary}. */
export const binaries = {
  statsdExporter: () => requireBinary("statsd_exporter", "test/images/build.sh statsd-exporter", "version 0.30.0"),
  prometheus: () => requireBinary("prometheus", "test/images/build.sh prometheus (Prometheus v3.13.5 from the Go module proxy)", "version 3.13.5"),
  /** Built beside prometheus by the same step: checks configs as the deployed Prometheus reads them. */
  promtool: () => requireBinary("promtool", "test/images/build.sh prometheus (promtool v3.13.5, built with prometheus)", "version 3.13.5"),
  alertmanager: () => requireBinary("alertmanager", "test/images/build.sh alertmanager (Alertmanager v0.35.0 from the Go module proxy)", "version 0.35.0"),
  /** Built beside alertmanager by the same step: checks alertmanager.yml as the deployed Alertmanager reads it. */
  amtool: () => requireBinary("amtool", "test/images/build.sh alertmanager (amtool v0.35.0, built with alertmanager)", "version 0.35.0"),
  carbonCache: () => requireBinary("carbon-cache", "apt-get install graphite-carbon"),
  graphiteWeb: () => requireBinary("graphite-manage", "apt-get install graphite-web"),
};

function workDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `statsd-stack-${name}-`));
}

function write(dir: string, file: string, content: string): string {
  const full = path.join(dir, file);
  writeFileSync(full, content);
  return full;
}

export interface AppProcess {
  readonly url: string;
  readonly proc: RunningProcess;
}

/** Who the app says it is; a second app on the same stack differs by these. */
export interface AppIdentity {
  readonly appName: string;
  readonly metricPrefix: string;
}

/** The real app as a child process (app/src/main.ts), sending to `statsdPort` in `style` (app/test starts it in-process). */
export async function startAppProcess(
  group: ProcessGroup,
  style: "graphite" | "dogstatsd",
  statsdPort: number,
  identity: Partial<AppIdentity> = {},
): Promise<AppProcess> {
  const port = await freeTcpPort();
  const proc = group.start("sample-api", process.execPath, ["--import", "tsx", path.join(ROOT, "app", "src", "main.ts")], {
    cwd: ROOT,
    env: {
      PORT: String(port),
      STATSD_HOST: "127.0.0.1",
      STATSD_PORT: String(statsdPort),
      METRICS_STYLE: style,
      METRIC_PREFIX: identity.metricPrefix ?? DEFAULT_METRIC_PREFIX,
      APP_NAME: identity.appName ?? DEFAULT_APP_NAME,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await group.waitHttp(proc, `${url}/healthz`);
  return { url, proc };
}

export interface ExporterStack {
  readonly apiUrl: string;
  readonly prometheusUrl: string;
  readonly exporterMetricsUrl: string;
  readonly exporterStatsdPort: number;
  readonly app: AppProcess;
  exporter: RunningProcess;
  prometheus: RunningProcess;
  /** With {@link ExporterStackOptions.alerting}: Alertmanager, which Prometheus sends its alerts to. */
  readonly alertmanagerUrl?: string;
  /** Restarts statsd_exporter on the same ports, empty, as a container restart would. */
  restartExporter(downMs: number): Promise<void>;
}

export interface ExporterStackOptions {
  /** Also run Alertmanager, with the files the program generates from these settings. */
  readonly alerting?: {
    readonly thresholds: AlertThresholds;
    readonly routing: AlertRouting;
    /** The webhook receiver's URL (a token in it); undefined: no receiver. */
    readonly webhookUrl?: string;
    /** Prometheus's retention size (config `prometheusRetentionSize`). */
    readonly retentionSize?: string;
  };
}

export async function startExporterStack(group: ProcessGroup, options: ExporterStackOptions = {}): Promise<ExporterStack> {
  const exporterBin = binaries.statsdExporter();
  const prometheusBin = binaries.prometheus();
  if (exporterBin.skip || prometheusBin.skip) throw new Error(exporterBin.skip || prometheusBin.skip || "");
  const dir = workDir("exporter");
  const alerting = options.alerting;
  let alertmanagerUrl: string | undefined;
  if (alerting) {
    const alertmanagerBin = binaries.alertmanager();
    if (alertmanagerBin.skip) throw new Error(alertmanagerBin.skip);
    const amPort = await freeTcpPort();
    const urlFile = alerting.webhookUrl === undefined ? undefined : write(dir, "webhook-url", alerting.webhookUrl);
    const amConfig = write(dir, "alertmanager.yml", alertmanagerConfigYaml({ routing: alerting.routing, webhookUrlFile: urlFile }));
    mkdirSync(path.join(dir, "alertmanager"));
    const am = group.start(
      "alertmanager",
      alertmanagerBin.path,
      alertmanagerArgs({ configPath: amConfig, dataDir: path.join(dir, "alertmanager"), listenAddress: `127.0.0.1:${amPort}` }),
    );
    alertmanagerUrl = `http://127.0.0.1:${amPort}`;
    await group.waitHttp(am, `${alertmanagerUrl}/-/ready`);
  }
  const [udp, web, prom] = [await freeTcpUdpPort(), await freeTcpPort(), await freeTcpPort()];

  const mappingPath = write(dir, "mapping.yml", exporterMappingYaml(DEFAULT_METRIC_PREFIX));
  const args = exporterArgs({ mappingPath, statsdListen: `127.0.0.1:${udp}`, webListen: `127.0.0.1:${web}`, readBufferBytes: DEFAULT_STATSD_RECEIVE_BUFFER });
  const startExporter = async () => {
    const p = group.start("statsd_exporter", exporterBin.path, args);
    await group.waitHttp(p, `http://127.0.0.1:${web}/-/healthy`);
    return p;
  };

  const configPath = write(
    dir,
    "prometheus.yml",
    prometheusConfigYaml({
      exporters: { static: `127.0.0.1:${web}` },
      selfTarget: `127.0.0.1:${prom}`,
      alertmanagerTarget: alertmanagerUrl?.replace("http://", ""),
    }),
  );
  // prometheus.yml names the rule file relative to itself, so it goes beside it, as in the container.
  write(
    dir,
    PROMETHEUS_RULES_FILE,
    prometheusRulesYaml({ appName: DEFAULT_APP_NAME, thresholds: alerting?.thresholds ?? DEFAULT_ALERT_THRESHOLDS, retentionSize: alerting?.retentionSize }),
  );
  mkdirSync(path.join(dir, "data"));
  const prometheus = group.start(
    "prometheus",
    prometheusBin.path,
    prometheusArgs({ configPath, dataDir: path.join(dir, "data"), listenAddress: `127.0.0.1:${prom}`, retentionSize: alerting?.retentionSize }),
  );
  const exporter = await startExporter();
  const prometheusUrl = `http://127.0.0.1:${prom}`;
  await group.waitHttp(prometheus, `${prometheusUrl}/-/ready`);
  const app = await startAppProcess(group, "dogstatsd", udp);
  const stack: ExporterStack = {
    apiUrl: app.url,
    prometheusUrl,
    exporterMetricsUrl: `http://127.0.0.1:${web}/metrics`,
    exporterStatsdPort: udp,
    exporter,
    prometheus,
    app,
    alertmanagerUrl,
    restartExporter: async (downMs) => {
      await stack.exporter.stop();
      await new Promise((r) => setTimeout(r, downMs));
      stack.exporter = await startExporter();
    },
  };
  return stack;
}

export interface GraphiteStack {
  readonly apiUrl: string;
  readonly graphiteUrl: string;
  readonly statsdPort: number;
  readonly app: AppProcess;
  statsd: RunningProcess;
  /** Restarts statsd on the same ports, empty, as a container restart would. */
  restartStatsd(downMs: number): Promise<void>;
}

function graphiteWebSettings(dir: string, carbonQueryPort: number): string {
  const storage = path.join(dir, "storage");
  return [
    "SECRET_KEY = 'end-to-end-tests-only'",
    `STORAGE_DIR = '${storage}/'`,
    `WHISPER_DIR = '${storage}/whisper/'`,
    `LOG_DIR = '${storage}/log/webapp/'`,
    `INDEX_FILE = '${storage}/index'`,
    `CONF_DIR = '${dir}/conf'`,
    `CARBONLINK_HOSTS = ['127.0.0.1:${carbonQueryPort}:a']`,
    `DATABASES = {'default': {'NAME': '${storage}/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}`,
    "TAGDB = ''",
    "",
  ].join("\n");
}

export async function startGraphiteStack(group: ProcessGroup): Promise<GraphiteStack> {
  const carbonBin = binaries.carbonCache();
  const graphiteWebBin = binaries.graphiteWeb();
  if (carbonBin.skip || graphiteWebBin.skip) throw new Error(carbonBin.skip || graphiteWebBin.skip || "");
  const dir = workDir("graphite");
  for (const sub of ["conf", "py", "storage/whisper", "storage/lists", "storage/log/webapp"]) mkdirSync(path.join(dir, sub), { recursive: true });
  const [line, pickle, query, web, udp, admin] = await Promise.all([
    freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpUdpPort(), freeTcpPort(),
  ]);

  // The program's own three files, with only paths and ports set for this machine.
  write(dir, "conf/storage-schemas.conf", storageSchemasConf());
  write(dir, "conf/storage-aggregation.conf", storageAggregationConf());
  const carbonConfig = write(
    dir,
    "conf/carbon.conf",
    carbonConf({ storageDir: path.join(dir, "storage"), listenAddress: "127.0.0.1", linePort: line, picklePort: pickle, cacheQueryPort: query, graphiteUrl: `http://127.0.0.1:${web}` }),
  );
  group.start("carbon-cache", carbonBin.path, [`--config=${carbonConfig}`, `--pidfile=${dir}/storage/carbon.pid`, "--nodaemon", "--logfile=-", "start"]);

  write(dir, "py/statsd_stack_e2e_settings.py", graphiteWebSettings(dir, query));
  const djangoEnv = {
    PYTHONPATH: path.join(dir, "py"),
    GRAPHITE_SETTINGS_MODULE: "statsd_stack_e2e_settings",
    DJANGO_SETTINGS_MODULE: "graphite.settings",
  };
  const migrate = group.start("graphite-web migrate", DEBIAN_PYTHON, ["-m", "django", "migrate", "--run-syncdb"], { env: djangoEnv, cwd: dir });
  const migrated = await new Promise<number | null>((resolve) => migrate.child.once("exit", (code) => resolve(code)));
  if (migrated !== 0) throw new Error(`graphite-web migrate failed\n${migrate.output()}`);
  const graphiteWeb = group.start("graphite-web", DEBIAN_PYTHON, ["-m", "django", "runserver", `127.0.0.1:${web}`, "--noreload"], { env: djangoEnv, cwd: dir });
  const graphiteUrl = `http://127.0.0.1:${web}`;
  await group.waitHttp(graphiteWeb, `${graphiteUrl}/metrics/find?query=*`);

  // The program's statsd config, the flood guard's backend (default expiry), the UDP server with the default
  // receive buffer and the drops backend included, written beside it.
  const ownMetricsExpiry = {
    backendPath: write(dir, "own-metrics-expiry.js", statsdExpiryBackendJs()),
    settings: statsdExpirySettings(DEFAULT_GRAPHITE_OWN_METRICS_EXPIRY, DEFAULT_METRIC_PREFIX),
  };
  const statsdConfig = write(
    dir,
    "statsd.js",
    statsdConfigJs({
      graphiteHost: "127.0.0.1",
      graphitePort: line,
      port: udp,
      mgmtPort: admin,
      listenAddress: "127.0.0.1",
      ownMetricsExpiry,
      receiveBuffer: { serverPath: write(dir, "udp-receive-buffer.js", statsdUdpServerJs()), bytes: DEFAULT_STATSD_RECEIVE_BUFFER },
      udpDropsBackendPath: write(dir, "udp-receive-buffer-drops.js", statsdUdpDropsBackendJs()),
    }),
  );
  const startStatsd = () => startStatsdProcess(group, statsdConfig, admin);
  const statsd = await startStatsd();
  const app = await startAppProcess(group, "graphite", udp);
  const stack: GraphiteStack = {
    apiUrl: app.url,
    graphiteUrl,
    statsdPort: udp,
    statsd,
    app,
    restartStatsd: async (downMs) => {
      await stack.statsd.stop();
      await new Promise((r) => setTimeout(r, downMs));
      stack.statsd = await startStatsd();
    },
  };
  return stack;
}

/**
 * Etsy statsd (npm `statsd`, the daemon the image builds) with the config file `configPath`, whose admin port is
 * `mgmtPort`; resolves once it answers `health`. Its working directory is the config's folder.
 */
export async function startStatsdProcess(group: ProcessGroup, configPath: string, mgmtPort: number, name = "statsd"): Promise<RunningProcess> {
  const p = group.start(name, process.execPath, [path.join(ROOT, "node_modules", "statsd", "stats.js"), configPath], { cwd: path.dirname(configPath) });
  await waitForTcp(mgmtPort, p);
  return p;
}

/**
 * statsd's answer to an admin `command` on 127.0.0.1:`port`, read until it contains `end` (or the connection closes,
 * or 2 s pass); "" when statsd does not answer.
 */
export function statsdAdmin(port: number, command: string, end: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (d) => {
      data += d.toString();
      if (data.includes(end)) socket.end();
    });
    socket.on("close", () => resolve(data));
    socket.on("error", () => resolve(""));
  });
}

/** Waits until statsd's admin port answers `health` with `health: up`. */
async function waitForTcp(port: number, proc: RunningProcess): Promise<void> {
  const healthy = async () => (await statsdAdmin(port, "health", "\n")).includes("health: up");
  if (!(await waitFor(healthy, 15_000, 200))) throw new Error(`statsd did not answer health on ${port}\n${proc.output()}`);
}
