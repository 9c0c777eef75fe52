/** The two pipelines the project builds; every per-topology table is keyed by these. */
export const TOPOLOGIES = ["graphite", "exporter"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/**
 * Where the exporter topology's statsd_exporter runs. `central`: one for every app replica (the default: with the
 * default single replica it is the same pipeline, and every stack deployed before the choice existed keeps its
 * resources). `sidecar`: one beside each app replica, as statsd_exporter's maintainers recommend for an app that scales
 * out: the app sends over localhost, no replica's counts share an exporter, and Prometheus scrapes each one.
 */
export const EXPORTER_MODES = ["central", "sidecar"] as const;
export type ExporterMode = (typeof EXPORTER_MODES)[number];
