/**
 * Every port of the stack in one table: the port a service listens on inside its container, its default host port
 * (Docker publishes it there; kind maps it there from the NodePort), and the NodePort the kind cluster config
 * (`kind/cluster.yaml`, generated from this table) forwards.
 */
export interface PortDefinition {
  /** The config key that overrides the host port on Docker. */
  readonly configKey: string;
  readonly containerPort: number;
  readonly defaultHostPort: number;
  readonly nodePort: number;
  readonly protocol: "tcp" | "udp";
  readonly description: string;
}

export const PORTS = {
  api: {
    configKey: "apiPort",
    containerPort: 8000,
    defaultHostPort: 8000,
    nodePort: 30800,
    protocol: "tcp",
    description: "the sample API",
  },
  grafana: {
    configKey: "grafanaPort",
    containerPort: 3000,
    defaultHostPort: 3000,
    nodePort: 30300,
    protocol: "tcp",
    description: "Grafana",
  },
  graphiteWeb: {
    configKey: "graphitePort",
    containerPort: 8080,
    defaultHostPort: 8080,
    nodePort: 30080,
    protocol: "tcp",
    description: "graphite-web (render and find APIs), graphite topology",
  },
  prometheus: {
    configKey: "prometheusPort",
    containerPort: 9090,
    defaultHostPort: 9090,
    nodePort: 30090,
    protocol: "tcp",
    description: "Prometheus, exporter topology",
  },
  exporterWeb: {
    configKey: "exporterPort",
    containerPort: 9102,
    defaultHostPort: 9102,
    nodePort: 30102,
    protocol: "tcp",
    description: "statsd_exporter /metrics, exporter topology",
  },
  statsd: {
    configKey: "statsdPort",
    containerPort: 8125,
    defaultHostPort: 8125,
    nodePort: 30125,
    protocol: "udp",
    description: "StatsD ingest (UDP) of either backend, to send your own metrics",
  },
} as const satisfies Record<string, PortDefinition>;

export type PortId = keyof typeof PORTS;

/** Ports that are not published: in-network only. */
export const INTERNAL_PORTS = {
  /** Etsy statsd's admin interface (`echo health | nc host 8126`). */
  statsdAdmin: 8126,
  carbonPlaintext: 2003,
} as const;
