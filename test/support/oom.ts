/** OOM kills on demand in the deploy tiers: scripts/checks/oom.ts says how. */
import { mebibytes } from "../../components/platform/docker";
import { PROMETHEUS_RESOURCES } from "../../components/prometheus";
import { EXPORTER_RESOURCES } from "../../components/statsd-exporter";

export { dockerOomEventsArgs, oomKillScript, sawOomEvent } from "../../scripts/checks/oom";

/** statsd_exporter's memory limit, in bytes. */
export const EXPORTER_MEMORY_LIMIT_BYTES = mebibytes(EXPORTER_RESOURCES.memoryLimit) * 1024 * 1024;

/** Prometheus's memory limit, in bytes. */
export const PROMETHEUS_MEMORY_LIMIT_BYTES = mebibytes(PROMETHEUS_RESOURCES.memoryLimit) * 1024 * 1024;
