/**
 * Which TCP ports of a pod accept a connection: from this machine (the node), and from a pod in the cluster that is
 * part of none of the pipeline's flows. A port counts as open when a connection is accepted within the time, and as
 * closed when it is refused, reset or never answered.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../../app/src/tools/wait";
import { runCommand } from "../../scripts/local/processes";
import { kubectl, kubectlJson } from "./cluster";

export type PortState = "open" | "closed";

/** Long enough for a connection on a loaded node; a port that a policy drops instead of refusing takes this long. */
const CONNECT_TIMEOUT_MS = 5000;

/** The state of each port of `host`, probed from this process. */
export async function portsFromHere(host: string, ports: readonly number[]): Promise<Record<number, PortState>> {
  const states = await Promise.all(ports.map((port) => connects(host, port).then((open): [number, PortState] => [port, open ? "open" : "closed"])));
  return Object.fromEntries(states);
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(false));
  });
}

/** What the probing pod runs: {@link connects} in Node, printing `{"port":"open"|"closed",...}`. */
const POD_SCRIPT = `
const net = require("node:net");
const ports = process.env.PORTS.split(",").map(Number);
const probe = (port) => new Promise((resolve) => {
  const s = net.connect({ host: process.env.HOST, port, timeout: ${CONNECT_TIMEOUT_MS} });
  s.on("connect", () => { s.destroy(); resolve([port, "open"]); });
  s.on("timeout", () => { s.destroy(); resolve([port, "closed"]); });
  s.on("error", () => resolve([port, "closed"]));
});
Promise.all(ports.map(probe)).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));
`;

/**
 * The state of each port of `host`, probed from a pod `name` in `namespace` whose labels match no NetworkPolicy's
 * flow (it runs `image`, which must have Node). The pod is deleted afterwards.
 */
export async function portsFromPod(namespace: string, name: string, image: string, host: string, ports: readonly number[]): Promise<Record<number, PortState>> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "statsd-stack-tests" } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name,
          image,
          imagePullPolicy: "IfNotPresent",
          command: ["node", "-e", POD_SCRIPT],
          env: [
            { name: "HOST", value: host },
            { name: "PORTS", value: ports.join(",") },
          ],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-probe-"));
  const file = path.join(dir, "pod.json");
  writeFileSync(file, JSON.stringify(pod));
  try {
    await kubectl("apply", "-f", file);
    const phase = async () => (await kubectlJson<{ status: { phase: string } }>("get", "pod", "-n", namespace, name)).status.phase;
    const ended = await waitFor(async () => ["Succeeded", "Failed"].includes(await phase()), 120_000, 1000);
    const log = await kubectl("logs", "-n", namespace, name);
    if (!ended || (await phase()) !== "Succeeded") throw new Error(`the probe pod ${namespace}/${name} did not succeed within 120 s: ${await phase()}\n${log}`);
    return JSON.parse(log.trim()) as Record<number, PortState>;
  } finally {
    await runCommand("kubectl", ["delete", "-f", file, "--ignore-not-found", "--wait=false"]);
    rmSync(dir, { recursive: true, force: true });
  }
}
