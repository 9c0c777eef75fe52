/** Timing of the pipeline, chosen together: each value explains the others. */

/** statsd's flush interval. Carbon's finest retention equals it: a shorter flush would overwrite points. */
export const STATSD_FLUSH_SECONDS = 10;

/** Prometheus scrape interval: fresh enough for a live demo, a few samples per `rate()` window. */
export const SCRAPE_INTERVAL_SECONDS = 5;

/** Grafana's refresh and the dashboards' default range. */
export const DASHBOARD_REFRESH = "10s";
export const DASHBOARD_RANGE = "now-30m";

/** Fixed datasource uids: dashboards refer to them, so they must not change between deployments. */
export const DATASOURCE_UIDS = { prometheus: "statsd-stack-prometheus", graphite: "statsd-stack-graphite" } as const;
