/**
 * statsd-stack: a StatsD metrics pipeline for a sample HTTP API, as the `graphite` or `exporter` topology, on Docker
 * or Kubernetes. Configuration is validated before any resource is registered.
 */
import { loadStackConfig } from "./components/config";
import { statsdStack } from "./components/stack";

export = statsdStack(loadStackConfig());
