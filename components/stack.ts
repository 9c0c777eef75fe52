/**
 * The whole stack for a validated configuration: the platform the config names and the topology on it. index.ts
 * runs it for the engine; the program tests run it under Pulumi's mocks, several configurations per process.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { createPlatform } from "./platform";
import { Topology, type TopologyOutputs } from "./topology";

/** The stack's outputs: what the config chose, and the topology's URLs, endpoint and credentials. */
export type StackOutputs = Pick<StackConfig, "topology" | "platform" | "appName" | "metricPrefix"> &
  TopologyOutputs &
  Readonly<Record<string, unknown>>;

/** Creates the platform and the topology; `opts` applies to both (tests pass transformations). */
export function statsdStack(config: StackConfig, opts?: pulumi.ComponentResourceOptions): StackOutputs {
  const platform = createPlatform(config, opts);
  const pipeline = new Topology("pipeline", { platform, config }, opts);
  return {
    topology: config.topology,
    platform: config.platform,
    // What `npm run smoke` needs to find this stack's series.
    appName: config.appName,
    metricPrefix: config.metricPrefix,
    ...pipeline.outputs,
  };
}
