/** graphiteapp/graphite-statsd: Etsy statsd, carbon and graphite-web in one image, with generated settings. */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { statsdIngest, type StatsdIngest } from "./backend";
import {
  carbonConf,
  GRAPHITE_MEMORY_LIMIT_MIB,
  GRAPHITE_SERVICE_STOP_SECONDS,
  GRAPHITE_STOP_SECONDS,
  STATSD_CONFIG_PATH,
  statsdConfigJs,
  storageAggregationConf,
  storageSchemasConf,
} from "../pipeline/graphite";
import {
  GRAPHITE_ADMIN_INIT_PATH,
  GRAPHITE_ADMIN_PASSWORD_ENV,
  GRAPHITE_NGINX_SITE_PATH,
  GRAPHITE_SECRET_KEY_ENV,
  graphiteAdminInitScript,
  graphiteNginxSite,
} from "../pipeline/graphite-web";
import type { OwnAggregation, OwnSchema } from "../pipeline/extensions";
import { INTERNAL_PORTS, containerPort } from "../pipeline/ports";
import { expirySeconds, STATSD_EXPIRY_BACKEND_PATH, statsdExpiryBackendJs, statsdExpirySettings } from "../pipeline/statsd-expiry";
import { WHISPER_PRUNE_RUN_PATH, whisperPruneScript } from "../pipeline/whisper-prune";
import { STATSD_UDP_DROPS_BACKEND_PATH, STATSD_UDP_SERVER_PATH, statsdUdpDropsBackendJs, statsdUdpServerJs } from "../pipeline/statsd-receive-buffer";
import { publicUrl, type Platform, type WorkloadSpec } from "./platform/workload";

/** Arguments of {@link GraphiteStatsd}. */
export interface GraphiteStatsdArgs {
  /** Where it runs. */
  readonly platform: Platform;
  /** The graphiteapp/graphite-statsd image (or one built the same way). */
  readonly image: pulumi.Input<string>;
  /** carbon's retentions for every series (config `graphiteRetentions`); default pipeline/graphite.ts's RETENTIONS. */
  readonly retentions?: string;
  /** A team's own storage schemas (config `graphiteSchemas`), before the catch-alls. */
  readonly ownSchemas?: readonly OwnSchema[];
  /** A team's own aggregation rules (config `graphiteAggregation`), before statsd's and the catch-all. */
  readonly ownAggregation?: readonly OwnAggregation[];
  /** graphite-web's admin (`root`) password; when unset a random one is generated and kept in state as a secret. */
  readonly adminPassword?: pulumi.Input<string>;
  /**
   * The flood guard (config `graphiteOwnMetricsExpiry`, a duration such as 24h; `0s`: never): statsd forgets a name
   * outside the catalog of the app sending under `metricPrefix` once no line named it for this long.
   */
  readonly ownMetricsExpiry?: { readonly expiry: string; readonly metricPrefix: pulumi.Input<string> };
  /**
   * The disk bound (config `graphiteOwnMetricsPruneAfter`, a duration of at least 1h such as 168h; `0s`: never): a
   * runit service deletes the whisper files outside the catalog of the app sending under `metricPrefix` once carbon
   * has not written them for this long (pipeline/whisper-prune.ts).
   */
  readonly ownMetricsPruneAfter?: { readonly pruneAfter: string; readonly metricPrefix: pulumi.Input<string> };
  /**
   * The StatsD socket's receive buffer in bytes (config `statsdReceiveBuffer`): statsd then runs the generated UDP
   * server (pipeline/statsd-receive-buffer.ts); 0 or unset: statsd's own, on the kernel's default buffer.
   */
  readonly receiveBufferBytes?: number;
  /** What the storage volume's claim requests on Kubernetes (config `graphiteStorageSize`). */
  readonly storageSize: string;
}

export const GRAPHITE_SERVICE = "graphite";
/**
 * The container's resources. Its memory limit is the one carbon's cache bound (MAX_CACHE_SIZE in the generated
 * carbon.conf) is sized from, so the two cannot drift: change GRAPHITE_MEMORY_LIMIT_MIB in pipeline/graphite.ts.
 */
export const GRAPHITE_RESOURCES: WorkloadSpec["resources"] = {
  cpuRequest: "200m",
  memoryRequest: "256Mi",
  cpuLimit: "1",
  memoryLimit: `${GRAPHITE_MEMORY_LIMIT_MIB}Mi`,
};

/** Where the image keeps whisper files, logs and graphite-web's database. */
export const GRAPHITE_STORAGE_DIR = "/opt/graphite/storage";

/** The graphite topology's backend: receives plain StatsD, stores in whisper, serves the render API. */
export class GraphiteStatsd extends pulumi.ComponentResource {
  /** Where the app and this machine send StatsD. */
  public readonly ingest: StatsdIngest;
  /** graphite-web inside the network, for Grafana's datasource. */
  public readonly webUrl: pulumi.Output<string>;
  /** graphite-web on this machine. */
  public readonly publicUrl: pulumi.Output<string>;
  /** The password of graphite-web's admin user `root` (a secret). */
  public readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: GraphiteStatsdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:GraphiteStatsd", name, {}, opts);
    this.adminPassword = pulumi.secret(
      args.adminPassword ??
        new random.RandomPassword(`${name}-admin-password`, { length: 24, special: false }, { parent: this }).result,
    );
    // Django signs sessions and CSRF tokens with it; the image's fallback is one fixed text for every install.
    const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 50, special: false }, { parent: this }).result;
    const prune = args.ownMetricsPruneAfter && expirySeconds(args.ownMetricsPruneAfter.pruneAfter) !== 0 ? args.ownMetricsPruneAfter : undefined;
    const spec: WorkloadSpec = {
      name: GRAPHITE_SERVICE,
      image: { ref: args.image },
      env: {
        STATSD_INTERFACE: "udp",
        // Only statsd, carbon-cache and graphite-web are used; the image's other daemons stay off.
        CARBON_AGGREGATOR_DISABLED: "1",
        CARBON_RELAY_DISABLED: "1",
        REDIS_DISABLED: "1",
        COLLECTD_DISABLED: "1",
        GRAPHITE_WSGI_PROCESSES: "2",
        GRAPHITE_TIME_ZONE: "Etc/UTC",
        // The image stops its services with runit's `sv force-stop`, which kills a service still running after
        // $SVWAIT seconds (runit's default: 7). carbon writes its whole cache before it exits, which takes longer.
        SVWAIT: String(GRAPHITE_SERVICE_STOP_SECONDS),
      },
      secretEnv: {
        [GRAPHITE_ADMIN_PASSWORD_ENV]: this.adminPassword,
        [GRAPHITE_SECRET_KEY_ENV]: pulumi.secret(secretKey),
      },
      ports: [
        { name: "statsd", port: containerPort("statsd", "graphite"), protocol: "udp", publish: "statsd" },
        { name: "web", port: containerPort("graphiteWeb"), protocol: "tcp", publish: "graphiteWeb" },
        // gunicorn's 8080 is left out on purpose: only nginx (above) should reach graphite-web.
        { name: "statsd-admin", port: INTERNAL_PORTS.statsdAdmin, protocol: "tcp" },
        { name: "carbon", port: INTERNAL_PORTS.carbonPlaintext, protocol: "tcp" },
      ],
      files: [
        {
          path: STATSD_CONFIG_PATH,
          content: pulumi.output(args.ownMetricsExpiry?.metricPrefix ?? "").apply((prefix) =>
            statsdConfigJs({
              graphiteHost: "127.0.0.1",
              graphitePort: INTERNAL_PORTS.carbonPlaintext,
              port: containerPort("statsd", "graphite"),
              mgmtPort: INTERNAL_PORTS.statsdAdmin,
              ownMetricsExpiry: args.ownMetricsExpiry && {
                backendPath: STATSD_EXPIRY_BACKEND_PATH,
                settings: statsdExpirySettings(args.ownMetricsExpiry.expiry, prefix),
              },
              receiveBuffer: { serverPath: STATSD_UDP_SERVER_PATH, bytes: args.receiveBufferBytes ?? 0 },
              udpDropsBackendPath: STATSD_UDP_DROPS_BACKEND_PATH,
            }),
          ),
        },
        { path: STATSD_EXPIRY_BACKEND_PATH, content: statsdExpiryBackendJs() },
        { path: STATSD_UDP_SERVER_PATH, content: statsdUdpServerJs() },
        { path: STATSD_UDP_DROPS_BACKEND_PATH, content: statsdUdpDropsBackendJs() },
        {
          path: "/opt/graphite/conf/carbon.conf",
          content: carbonConf({
            storageDir: GRAPHITE_STORAGE_DIR,
            listenAddress: "0.0.0.0",
            linePort: INTERNAL_PORTS.carbonPlaintext,
            picklePort: INTERNAL_PORTS.carbonPickle,
            cacheQueryPort: INTERNAL_PORTS.carbonCacheQuery,
            // carbon tags series through graphite-web's tag API, which nginx refuses: it goes to gunicorn.
            graphiteUrl: `http://127.0.0.1:${INTERNAL_PORTS.graphiteWebGunicorn}`,
          }),
        },
        { path: "/opt/graphite/conf/storage-schemas.conf", content: storageSchemasConf(args.retentions, args.ownSchemas) },
        { path: "/opt/graphite/conf/storage-aggregation.conf", content: storageAggregationConf(args.ownAggregation) },
        {
          path: GRAPHITE_NGINX_SITE_PATH,
          content: graphiteNginxSite({ listenPort: containerPort("graphiteWeb"), upstreamPort: INTERNAL_PORTS.graphiteWebGunicorn }),
        },
        { path: GRAPHITE_ADMIN_INIT_PATH, content: graphiteAdminInitScript(), executable: true },
        ...(prune
          ? [
              {
                path: WHISPER_PRUNE_RUN_PATH,
                content: pulumi.output(prune.metricPrefix).apply((metricPrefix) =>
                  whisperPruneScript({ whisperDir: `${GRAPHITE_STORAGE_DIR}/whisper`, pruneAfter: prune.pruneAfter, metricPrefix }),
                ),
                executable: true,
              },
            ]
          : []),
      ],
      dataPaths: [GRAPHITE_STORAGE_DIR],
      dataSize: args.storageSize,
      probe: {
        http: { path: "/metrics/find?query=*", port: containerPort("graphiteWeb") },
      },
      resources: GRAPHITE_RESOURCES,
      // The image's own shutdown: every service in turn, each up to SVWAIT, then 5 s before it kills what is left.
      shutdown: { drainSeconds: 0, graceSeconds: GRAPHITE_STOP_SECONDS },
      security: {
        // runit, nginx and the carbon/statsd services start as root in this image and cannot be run otherwise.
        readOnlyRootFilesystem: false,
        rootReason: "graphiteapp/graphite-statsd starts runit, nginx, carbon and statsd as root",
      },
    };
    const deployed = args.platform.deploy(name, spec, this);
    this.ingest = statsdIngest(deployed, containerPort("statsd", "graphite"));
    this.webUrl = deployed.internalUrl("web");
    this.publicUrl = publicUrl(deployed, "graphiteWeb");
    this.registerOutputs({
      ...this.ingest,
      webUrl: this.webUrl,
      publicUrl: this.publicUrl,
      adminPassword: this.adminPassword,
    });
  }
}
