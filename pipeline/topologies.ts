/** The two pipelines the project builds; every per-topology table is keyed by these. */
export const TOPOLOGIES = ["graphite", "exporter"] as const;
export type Topology = (typeof TOPOLOGIES)[number];
