/** Picks the platform the stack's config names. */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Platform } from "./workload";
import { DockerPlatform } from "./docker";
import { KubernetesPlatform } from "./kubernetes";

export function createPlatform(config: StackConfig): Platform {
  // Names outside Pulumi's state (containers, networks, volumes, images) carry the stack, so stacks do not collide.
  const namePrefix = `statsd-stack-${pulumi.getStack()}`.toLowerCase();
  if (config.platform === "kubernetes") return new KubernetesPlatform({ namePrefix, topology: config.topology, ...config.kubernetes });
  return new DockerPlatform({
    namePrefix,
    bindAddress: config.bindAddress,
    hostPorts: config.hostPorts,
  });
}
