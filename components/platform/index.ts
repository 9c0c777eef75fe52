/** Picks the platform the stack's config names. */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Platform } from "../workload";
import { DockerPlatform } from "./docker";
import { KubernetesPlatform } from "./kubernetes";

export function createPlatform(config: StackConfig): Platform {
  if (config.platform === "kubernetes") return new KubernetesPlatform(config.kubernetes);
  return new DockerPlatform({
    namePrefix: `statsd-stack-${pulumi.getStack()}`.toLowerCase(),
    bindAddress: config.bindAddress,
    hostPorts: config.hostPorts,
  });
}
