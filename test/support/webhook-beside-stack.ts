/**
 * The test's webhook receiver (webhook-receiver.ts) beside a deployed stack, where the stack's Alertmanager reaches
 * it by name: a container on the stack's Docker network, or a pod and Service in the stack's namespace. It runs on
 * node:22-bookworm-slim, as a non-root user with a read-only root filesystem; this machine reads what it got through
 * a port on 127.0.0.1 (Docker) or a NodePort (Kubernetes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { waitFor } from "../../app/src/tools/wait";
import { runCommand } from "../../scripts/local/processes";
import { kubectl, kubectlJson } from "./cluster";
import { docker } from "./docker";

const SCRIPT = path.join(__dirname, "webhook-receiver.ts");
export const RECEIVER_IMAGE = "node:22-bookworm-slim";
/** The receiver's name on the network (Docker alias, Service name) and port: the stack's webhook URL uses them. */
export const RECEIVER_HOST = "webhook-receiver";
const RECEIVER_PORT = 8080;

export interface WebhookReceiver {
  /** What the stack's `alertWebhookUrl` is set to: the receiver by name, with the token. */
  readonly webhookUrl: string;
  /** Where this machine reads GET /received. */
  readonly readUrl: string;
  remove(): Promise<void>;
}

/** The URL a stack posts to: a receiver named {@link RECEIVER_HOST}, with `token` in the query. */
export function receiverWebhookUrl(token: string): string {
  return `http://${RECEIVER_HOST}:${RECEIVER_PORT}/hook?token=${token}`;
}

async function answers(url: string): Promise<boolean> {
  return waitFor(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok, 60_000, 500);
}

/** A container `name` on Docker network `network`, alias {@link RECEIVER_HOST}. */
export async function receiverContainer(name: string, network: string, token: string): Promise<WebhookReceiver> {
  await runCommand("docker", ["rm", "-f", name]);
  await docker(
    "run", "-d", "--name", name, "--network", network, "--network-alias", RECEIVER_HOST,
    "--user", "1000:1000", "--read-only", "-p", `127.0.0.1::${RECEIVER_PORT}`,
    "-e", `TOKEN=${token}`, "-e", `PORT=${RECEIVER_PORT}`,
    "-v", `${SCRIPT}:/receiver/webhook-receiver.ts:ro`,
    RECEIVER_IMAGE, "node", "/receiver/webhook-receiver.ts",
  );
  const published = (await docker("port", name, `${RECEIVER_PORT}/tcp`)).trim().split("\n")[0]!;
  const readUrl = `http://${published}`;
  const remove = async () => void (await runCommand("docker", ["rm", "-f", name]));
  if (!(await answers(`${readUrl}/received`))) {
    const logs = await runCommand("docker", ["logs", name]);
    await remove();
    throw new Error(`the webhook receiver container did not answer on ${readUrl}\n${logs.stdout}${logs.stderr}`);
  }
  return { webhookUrl: receiverWebhookUrl(token), readUrl, remove };
}

/** A pod and a Service named {@link RECEIVER_HOST} in `namespace` (a NodePort, for this machine to read it). */
export async function receiverPod(namespace: string, token: string, nodeAddress = "127.0.0.1"): Promise<WebhookReceiver> {
  const labels = { "app.kubernetes.io/name": RECEIVER_HOST, "app.kubernetes.io/part-of": "statsd-stack-tests" };
  const manifests = [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: RECEIVER_HOST, namespace, labels }, data: { "webhook-receiver.ts": readFileSync(SCRIPT, "utf8") } },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: RECEIVER_HOST, namespace, labels },
      spec: {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: RECEIVER_HOST,
            image: RECEIVER_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["node", "/receiver/webhook-receiver.ts"],
            env: [
              { name: "TOKEN", value: token },
              { name: "PORT", value: String(RECEIVER_PORT) },
            ],
            ports: [{ name: "http", containerPort: RECEIVER_PORT }],
            readinessProbe: { httpGet: { path: "/received", port: RECEIVER_PORT }, periodSeconds: 2 },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            volumeMounts: [{ name: "script", mountPath: "/receiver", readOnly: true }],
          },
        ],
        volumes: [{ name: "script", configMap: { name: RECEIVER_HOST } }],
      },
    },
    // The stack's namespace denies all ingress but what a policy admits: Alertmanager, and this machine through
    // the NodePort, reach the receiver on its port.
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${RECEIVER_HOST}-ingress`, namespace, labels },
      spec: { podSelector: { matchLabels: labels }, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: RECEIVER_PORT, protocol: "TCP" }] }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: RECEIVER_HOST, namespace, labels },
      spec: { type: "NodePort", selector: labels, ports: [{ name: "http", port: RECEIVER_PORT, targetPort: RECEIVER_PORT }] },
    },
  ];
  const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-receiver-"));
  const file = path.join(dir, "receiver.yaml");
  writeFileSync(file, manifests.map((m) => stringify(m)).join("---\n"));
  const remove = async () => {
    await runCommand("kubectl", ["delete", "-f", file, "--ignore-not-found", "--wait=false"]);
    rmSync(dir, { recursive: true, force: true });
  };
  await kubectl("apply", "-f", file);
  await kubectl("wait", "-n", namespace, "--for=condition=Ready", `pod/${RECEIVER_HOST}`, "--timeout=120s");
  const service = await kubectlJson<{ spec: { ports: Array<{ nodePort: number }> } }>("get", "service", "-n", namespace, RECEIVER_HOST);
  const readUrl = `http://${nodeAddress}:${service.spec.ports[0]!.nodePort}`;
  if (!(await answers(`${readUrl}/received`))) {
    await remove();
    throw new Error(`the webhook receiver pod did not answer on ${readUrl}`);
  }
  return { webhookUrl: receiverWebhookUrl(token), readUrl, remove };
}
