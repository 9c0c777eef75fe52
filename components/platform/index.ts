/** The platform the stack's config names, as the component that owns its shared resources. */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { DockerPlatform } from "./docker";
import { KubernetesPlatform } from "./kubernetes";

export function createPlatform(config: StackConfig, opts?: pulumi.ComponentResourceOptions): DockerPlatform | KubernetesPlatform {
  // Names outside Pulumi's state (containers, networks, volumes, images) carry the stack, so stacks do not collide.
  const namePrefix = `statsd-stack-${pulumi.getStack()}`.toLowerCase();
  if (config.platform === "kubernetes") {
    return new KubernetesPlatform("platform", { namePrefix, topology: config.topology, ...config.kubernetes, storage: config.storage }, opts);
  }
  return new DockerPlatform("platform", {
    namePrefix,
    bindAddress: config.bindAddress,
    hostPorts: config.hostPorts,
    retainData: config.storage.retain,
  }, opts);
}
