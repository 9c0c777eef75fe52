/**
 * Every port of the stack in one table: the port a service listens on inside its container, the host port each
 * topology publishes it on by default, and the NodePort a kind cluster forwards to that host port.
 *
 * The repository's two stacks publish on different host ports where both topologies publish a service (the API,
 * Grafana, StatsD), so `graphite` and `exporter` run side by side on one machine: Pulumi.yaml's defaults are the
 * graphite column, and Pulumi.exporter.yaml sets the exporter column (a test keeps both in step with this table).
 */
import type { Topology } from "./topologies";

/** The kind cluster `kind/cluster.yaml` creates; its context, `kind-statsd-stack`, is the stack's default. */
export const DEFAULT_KIND_CLUSTER = "statsd-stack";

export interface PortDefinition {
  /** The config key that overrides the host port on Docker. */
  readonly configKey: string;
  /** The port the service listens on in its container; per topology where the two backends differ (StatsD). */
  readonly containerPort: number | Readonly<Record<Topology, number>>;
  readonly protocol: "tcp" | "udp";
  readonly description: string;
  /** The host port the repository's stack of each topology publishes this port on (see above). */
  readonly hostPort: Readonly<Partial<Record<Topology, number>>>;
  /**
   * kind only: the fixed NodePort `kind/cluster.yaml` forwards to 127.0.0.1:hostPort. NodePorts are cluster-wide,
   * so each topology has its own. Other clusters get NodePorts assigned by Kubernetes.
   */
  readonly kindNodePort: Readonly<Partial<Record<Topology, number>>>;
}

export const PORTS = {
  api: {
    configKey: "apiPort",
    containerPort: 8000,
    protocol: "tcp",
    description: "the sample API",
    hostPort: { graphite: 8000, exporter: 8100 },
    kindNodePort: { graphite: 30800, exporter: 30801 },
  },
  grafana: {
    configKey: "grafanaPort",
    containerPort: 3000,
    protocol: "tcp",
    description: "Grafana",
    hostPort: { graphite: 3000, exporter: 3001 },
    kindNodePort: { graphite: 30300, exporter: 30301 },
  },
  graphiteWeb: {
    configKey: "graphitePort",
    // The image's nginx in front of graphite-web (pipeline/graphite-web.ts), not gunicorn's 8080.
    containerPort: 80,
    protocol: "tcp",
    description: "graphite-web (render and find APIs, behind nginx), graphite topology",
    hostPort: { graphite: 8080 },
    kindNodePort: { graphite: 30080 },
  },
  prometheus: {
    configKey: "prometheusPort",
    containerPort: 9090,
    protocol: "tcp",
    description: "Prometheus, exporter topology",
    hostPort: { exporter: 9090 },
    kindNodePort: { exporter: 30090 },
  },
  alertmanager: {
    configKey: "alertmanagerPort",
    containerPort: 9093,
    protocol: "tcp",
    description: "Alertmanager (web UI and API), exporter topology",
    hostPort: { exporter: 9093 },
    kindNodePort: { exporter: 30093 },
  },
  exporterWeb: {
    configKey: "exporterPort",
    containerPort: 9102,
    protocol: "tcp",
    description: "statsd_exporter /metrics, exporter topology",
    hostPort: { exporter: 9102 },
    kindNodePort: { exporter: 30102 },
  },
  statsd: {
    configKey: "statsdPort",
    // Etsy statsd's default port, and statsd_exporter's (its image's default).
    containerPort: { graphite: 8125, exporter: 9125 },
    protocol: "udp",
    description: "StatsD ingest (UDP) of either backend, to send your own metrics",
    hostPort: { graphite: 8125, exporter: 9125 },
    kindNodePort: { graphite: 30125, exporter: 30925 },
  },
} as const satisfies Record<string, PortDefinition>;

export type PortId = keyof typeof PORTS;

/** The ports a topology publishes, in table order. */
export function publishedPorts(topology: Topology): PortId[] {
  return (Object.keys(PORTS) as PortId[]).filter((id) => (PORTS[id] as PortDefinition).hostPort[topology] !== undefined);
}

/** The port `id` listens on inside its container, in `topology` (required where the topologies differ). */
export function containerPort(id: PortId, topology?: Topology): number {
  const port = (PORTS[id] as PortDefinition).containerPort;
  if (typeof port === "number") return port;
  if (topology === undefined) throw new Error(`${id} listens on a different port in each topology: name the topology`);
  return port[topology];
}

/** A published port's number in one of the table's per-topology columns; throws if `topology` does not publish it. */
function publishedAs(column: "hostPort" | "kindNodePort", id: PortId, topology: Topology): number {
  const port = (PORTS[id] as PortDefinition)[column][topology];
  if (port === undefined) throw new Error(`${topology} does not publish ${id}`);
  return port;
}

/** kind's fixed NodePort for a published port of a topology. */
export const kindNodePort = (id: PortId, topology: Topology): number => publishedAs("kindNodePort", id, topology);

/** The host port of `id` in the repository's stack of `topology`. */
export const stackHostPort = (id: PortId, topology: Topology): number => publishedAs("hostPort", id, topology);

/** The config key's default (Pulumi.yaml): the graphite stack's port, or the exporter's for its own services. */
export function defaultHostPort(id: PortId): number {
  const port = PORTS[id] as PortDefinition;
  return port.hostPort.graphite ?? port.hostPort.exporter!;
}

/** Ports that are not published: in-network only. */
export const INTERNAL_PORTS = {
  /** Etsy statsd's admin interface (`echo health | nc host 8126`). */
  statsdAdmin: 8126,
  carbonPlaintext: 2003,
  /** carbon's pickle receiver and cache query port: inside the graphite container only, not in its ports. */
  carbonPickle: 2004,
  carbonCacheQuery: 7002,
  /**
   * graphite-web's gunicorn, which the image binds to 0.0.0.0:8080 (its run script fixes it): carbon posts tags to it
   * inside the container; nothing else should use it, so it is in no Service or published port.
   */
  graphiteWebGunicorn: 8080,
} as const;
