/**
 * The Kubernetes platform: each workload becomes a Deployment (a StatefulSet of one replica when it keeps data on
 * claims), a ClusterIP Service named after it (the DNS name other workloads use, all its ports), a NodePort Service
 * with only the ports the port table publishes, an auto-named ConfigMap for its files (so an edit rolls the pods), a Secret for its secret environment, a
 * PersistentVolumeClaim for each data path (unless the stack asks for ephemeral storage), and a NetworkPolicy
 * admitting only the connections its ports declare (the namespace denies all other ingress).
 *
 * On kind (context `kind-<cluster>`) the NodePorts are the fixed ones `kind/cluster.yaml` forwards to 127.0.0.1,
 * one set per topology. On any other cluster Kubernetes assigns them (NodePorts are cluster-wide: fixed ones would
 * clash between stacks), and the URL outputs use the assigned port on the configured node address.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kindNodePort, stackHostPort } from "../../pipeline/ports";
import type { Topology } from "../../pipeline/topologies";
import { rootAlias } from "../aliases";
import type { StorageConfig } from "../config";
import { portOf, replicaPorts, type Deployed, type Platform, type WorkloadFile, type WorkloadPort, type WorkloadProbe, type WorkloadSecurity, type WorkloadSpec } from "./workload";
import { buildLocalImage, localImageName } from "./local-image";

/** Arguments of {@link KubernetesPlatform}. */
export interface KubernetesPlatformArgs {
  /** Prefix of what is named outside the cluster (the locally built image), e.g. `statsd-stack-exporter`. */
  readonly namePrefix: string;
  /** The topology deployed: kind's fixed NodePorts differ per topology, so two stacks share a kind cluster. */
  readonly topology: Topology;
  /** The kubeconfig context to deploy to. */
  readonly context: string;
  /** The namespace the platform creates and deploys every workload into. */
  readonly namespace: string;
  /** The kind cluster's name when the context is kind's (`kind-<name>`); undefined on any other cluster. */
  readonly kindCluster?: string;
  /** Not kind: the address this machine reaches the nodes' NodePorts on, for the URL outputs. */
  readonly nodeAddress: string;
  /** A shell command that copies the locally built image `$IMAGE` into the cluster (kind: `kind load`). */
  readonly imageLoadCommand?: string;
  /** How data paths are kept: claims (of which class, kept on destroy or not) or emptyDirs. The sizes are the specs'. */
  readonly storage: Pick<StorageConfig, "mode" | "className" | "retain">;
}

const PART_OF = "statsd-stack";

/** A ConfigMap key for a file path: ConfigMap keys allow `[-._a-zA-Z0-9]` only. */
export function configMapKey(path: string): string {
  return path.replace(/^\/+/, "").replace(/[^-._a-zA-Z0-9]/g, "_");
}

/** How kind copies a local image into its node; the default image load command on kind. */
export function kindLoadCommand(cluster: string): string {
  return `kind load docker-image "$IMAGE" --name ${cluster}`;
}

/**
 * The `pulumi.com/waitFor` conditions that make `pulumi up` wait for a Deployment's (or StatefulSet's) rollout as `kubectl rollout
 * status` does: every replica runs the current template, is available, and no old replica is left.
 *
 * Why not the provider's built-in Deployment await: on an update it can return while the new pod is still being
 * created (seen with pulumi-kubernetes 4.25 on Kubernetes 1.34: the Deployment's status is observed before the
 * controller moves its revision annotation, so the old, ready ReplicaSet passes for the new one). Load driven right
 * after `pulumi up` then reached the old pod. A JSONPath condition is only checked once `.status.observedGeneration`
 * has caught up with `.metadata.generation`, so it cannot pass on the old revision's status.
 */
export function rolloutWaitFor(replicas: number): string {
  return JSON.stringify(
    ["updatedReplicas", "availableReplicas", "replicas"].map((field) => `jsonpath={.status.${field}}=${replicas}`),
  );
}

/** How a Deployment replaces its pods: a new pod is Ready before an old one goes, so the Service always has one. */
export const ROLLING_UPDATE: k8s.types.input.apps.v1.DeploymentStrategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };

/** The part naming data path `index`: in its claim's fixed name (a kept claim is found again by the next up) and its resource's. */
function dataPart(index: number): string {
  return index === 0 ? "data" : `data-${index}`;
}

/** How long `pulumi up` waits for a rollout before it fails (the provider's own default is 10 minutes). */
export const ROLLOUT_TIMEOUT = "5m";

/**
 * The ingress a workload's pods admit: its published ports, from anyone (the stack's flows, app -> ingest,
 * Prometheus -> exporter, Grafana -> backend, all go to published ports, and a NodePort's traffic comes from the node
 * or from outside the cluster). Its other ports (carbon, statsd's admin port, gunicorn) admit no other pod; the
 * namespace's default-deny policy refuses everything else.
 */
export function ingressPolicy(spec: WorkloadSpec, podLabels: Record<string, string>): k8s.types.input.networking.v1.NetworkPolicySpec {
  const published = replicaPorts(spec).filter((p) => p.publish !== undefined);
  return {
    podSelector: { matchLabels: podLabels },
    policyTypes: ["Ingress"],
    ingress: published.length === 0 ? [] : [{ ports: published.map((p) => ({ port: p.port, protocol: p.protocol.toUpperCase() })) }],
  };
}

/** Kubernetes' own grace period, where a workload sets none. */
const DEFAULT_GRACE_SECONDS = 30;
/** What a sidecar has from its SIGTERM to SIGKILL, after its preStop sleep. */
const SIDECAR_SIGTERM_SECONDS = 5;

/** A container's hardening: a non-root process drops every capability and cannot gain privileges. */
function containerSecurity(security: WorkloadSecurity): k8s.types.input.core.v1.SecurityContext {
  return security.runAsUser !== undefined
    ? { allowPrivilegeEscalation: false, readOnlyRootFilesystem: security.readOnlyRootFilesystem, capabilities: { drop: ["ALL"] } }
    : { readOnlyRootFilesystem: security.readOnlyRootFilesystem };
}

/** What every container of the platform has, from what a workload or sidecar says: image, ports, probes, limits, hardening. */
function containerBasics(
  name: string,
  image: pulumi.Input<string>,
  part: Pick<WorkloadSpec, "args" | "ports" | "probe" | "resources" | "security">,
): k8s.types.input.core.v1.Container {
  return {
    name,
    image,
    // Never `Always`: a local image (kind, or loaded by imageLoadCommand) is in no registry.
    imagePullPolicy: "IfNotPresent",
    args: part.args ? [...part.args] : undefined,
    ports: part.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol.toUpperCase() })),
    readinessProbe: probe(part.probe, 5, 3),
    livenessProbe: probe(part.probe, 30, 6),
    resources: {
      requests: { cpu: part.resources.cpuRequest, memory: part.resources.memoryRequest },
      limits: { cpu: part.resources.cpuLimit, memory: part.resources.memoryLimit },
    },
    securityContext: containerSecurity(part.security),
  };
}

/** A Service's ports for workload ports: each to the same port of the pods. */
function servicePorts(ports: readonly WorkloadPort[]): k8s.types.input.core.v1.ServicePort[] {
  return ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol.toUpperCase() }));
}

function probe(p: WorkloadProbe, initialDelaySeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe {
  const action = "http" in p ? { httpGet: { path: p.http.path, port: p.http.port } } : { tcpSocket: { port: p.tcp.port } };
  return { ...action, initialDelaySeconds, periodSeconds: 10, timeoutSeconds: 5, failureThreshold };
}

/**
 * A Kubernetes cluster as a platform: owns the provider for the configured context and the stack's namespace; each
 * workload deployed on it becomes a Deployment or StatefulSet and Services in that namespace (children of the workload's component).
 */
export class KubernetesPlatform extends pulumi.ComponentResource implements Platform {
  readonly kind = "kubernetes";
  /** The provider every object of the stack is created with: the configured context, the stack's namespace. */
  readonly provider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  private readonly args: KubernetesPlatformArgs;
  private readonly name: string;
  private clusterUid?: pulumi.Output<string>;

  constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("statsd-stack:index:KubernetesPlatform", name, {}, opts);
    this.args = args;
    this.name = name;
    // Stacks deployed before the platform was a component had the provider and namespace at the root.
    // With dataOnDestroy retain, a destroyed stack leaves its namespace and claims: the next `pulumi up` must take
    // them up again where the provider would refuse to create what exists (its default since 4.29).
    const retain = args.storage.retain && args.storage.mode === "persistent";
    this.provider = new k8s.Provider(
      `${name}-provider`,
      { context: args.context, namespace: args.namespace, ...(retain ? { upsertExistingObjects: true } : {}) },
      { parent: this, aliases: [rootAlias("k8s", "pulumi:providers:kubernetes")] },
    );
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": PART_OF } } },
      // Deleting a namespace deletes its claims: a stack that keeps its data keeps the namespace too.
      { parent: this, provider: this.provider, aliases: [rootAlias("namespace", "kubernetes:core/v1:Namespace")], retainOnDelete: retain },
    );
    // Nothing reaches a pod of the namespace unless a workload's own policy (deploy) admits it. Egress stays open:
    // DNS, Alertmanager's webhooks and Grafana's plugins go out of the namespace.
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny-ingress`,
      {
        metadata: { name: "default-deny-ingress", namespace: this.namespace.metadata.name, labels: { "app.kubernetes.io/part-of": PART_OF } },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
      },
      { parent: this, provider: this.provider },
    );
    this.registerOutputs({ namespace: this.namespace.metadata.name });
  }

  /** A headless Service beside the workload's own (deploy creates it for a workload with a sidecar). */
  replicasHost(service: string): string {
    return `${service}-replicas`;
  }

  deploy(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): Deployed {
    const opts: pulumi.CustomResourceOptions = { parent, provider: this.provider };
    const namespace = this.namespace.metadata.name;
    const labels = { "app.kubernetes.io/name": spec.name, "app.kubernetes.io/part-of": PART_OF };
    const image = this.image(prefix, spec, parent);

    const sidecar = spec.sidecar;
    if (sidecar?.files?.some((f) => f.secret)) throw new Error(`workload ${spec.name}: a sidecar's files are in the workload's ConfigMap and cannot be secret`);
    const sidecarFiles = sidecar?.files ?? [];
    // The sidecar's files share the workload's ConfigMap (distinct paths, so distinct keys): one object rolls the pod.
    const files = [...(spec.files ?? []).filter((f) => !f.secret), ...sidecarFiles];
    const secretFiles = (spec.files ?? []).filter((f) => f.secret);
    const configMap =
      files.length === 0
        ? undefined
        : new k8s.core.v1.ConfigMap(
            `${prefix}-config`,
            {
              metadata: { namespace, labels },
              data: Object.fromEntries(files.map((f) => [configMapKey(f.path), f.content])),
            },
            opts,
          );
    const secretEnv = spec.secretEnv ?? {};
    const secret =
      Object.keys(secretEnv).length === 0
        ? undefined
        : new k8s.core.v1.Secret(`${prefix}-secret`, { metadata: { namespace, labels }, stringData: secretEnv }, opts);
    // Auto-named like the ConfigMap, so a new content rolls the pods.
    const filesSecret =
      secretFiles.length === 0
        ? undefined
        : new k8s.core.v1.Secret(
            `${prefix}-secret-files`,
            {
              metadata: { namespace, labels },
              stringData: Object.fromEntries(secretFiles.map((f) => [configMapKey(f.path), pulumi.secret(f.content)])),
            },
            opts,
          );

    const storage = this.args.storage;
    const claims =
      storage.mode === "persistent"
        ? (spec.dataPaths ?? []).map(
            (_, i) =>
              new k8s.core.v1.PersistentVolumeClaim(
                `${prefix}-${dataPart(i)}`,
                {
                  metadata: {
                    name: `${spec.name}-${dataPart(i)}`,
                    namespace,
                    labels,
                    // The workload's rollout wait covers the claim: its pod is not ready before the volume is bound.
                    // The provider's own claim wait (kubernetes provider 4.25) waits for "Pending" on a class that
                    // binds at first consumer, and a claim kept by dataOnDestroy retain is already Bound: it never
                    // returned.
                    annotations: { "pulumi.com/skipAwait": "true" },
                  },
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: storage.className,
                    resources: { requests: { storage: spec.dataSize ?? "1Gi" } },
                  },
                },
                // A fixed name cannot be created before the old claim is deleted.
                { ...opts, retainOnDelete: storage.retain, deleteBeforeReplace: true },
              ),
          )
        : [];
    const writable = [...(spec.dataPaths ?? []), ...(spec.scratchPaths ?? [])];
    const volumes: k8s.types.input.core.v1.Volume[] = [
      ...(configMap
        ? [
            {
              name: "config",
              configMap: {
                name: configMap.metadata.name,
                // Listed with their modes only when one is run by the image, so other pods' specs stay as they were.
                items: files.some((f) => f.executable)
                  ? files.map((f) => ({ key: configMapKey(f.path), path: configMapKey(f.path), mode: f.executable ? 0o755 : 0o644 }))
                  : undefined,
              },
            },
          ]
        : []),
      // Readable by the process's user only (the pod's fsGroup owns it): 0440.
      ...(filesSecret ? [{ name: "secret-files", secret: { secretName: filesSecret.metadata.name, defaultMode: 0o440 } }] : []),
      ...writable.map((_, i) =>
        claims[i] ? { name: `data-${i}`, persistentVolumeClaim: { claimName: claims[i]!.metadata.name } } : { name: `data-${i}`, emptyDir: {} },
      ),
      ...(spec.security.readOnlyRootFilesystem || sidecar?.security.readOnlyRootFilesystem ? [{ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }] : []),
    ];
    // One file per mount (subPath), so the image's other files in the same directory stay visible.
    const fileMounts = (list: readonly WorkloadFile[]) => list.map((f) => ({ name: "config", mountPath: f.path, subPath: configMapKey(f.path), readOnly: true }));
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
      ...fileMounts((spec.files ?? []).filter((f) => !f.secret)),
      ...secretFiles.map((f) => ({ name: "secret-files", mountPath: f.path, subPath: configMapKey(f.path), readOnly: true })),
      ...writable.map((path, i) => ({ name: `data-${i}`, mountPath: path })),
      ...(spec.security.readOnlyRootFilesystem ? [{ name: "tmp", mountPath: "/tmp" }] : []),
    ];

    const nonRoot = spec.security.runAsUser !== undefined;
    const shutdown = spec.shutdown;
    const mainGrace = shutdown?.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    // The kubelet runs every container's preStop hook at once when the pod stops, and sends a sidecar SIGTERM only
    // after its hook and once the main container has exited. A hook that sleeps through the main container's whole
    // grace period and then outliveSeconds keeps the sidecar up at least outliveSeconds after the main container's exit.
    const sidecarPreStop = sidecar ? mainGrace + sidecar.outliveSeconds : 0;
    const replicas = spec.replicas ?? 1;
    const template: k8s.types.input.core.v1.PodTemplateSpec = {
      metadata: { labels },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        // The sidecar's stop (see below) and a few seconds for its SIGTERM, within the pod's one grace period.
        ...(shutdown || sidecar ? { terminationGracePeriodSeconds: sidecar ? sidecarPreStop + SIDECAR_SIGTERM_SECONDS : mainGrace } : {}),
        securityContext: nonRoot
          ? {
              runAsNonRoot: true,
              runAsUser: spec.security.runAsUser,
              runAsGroup: spec.security.runAsGroup ?? spec.security.runAsUser,
              fsGroup: spec.security.runAsGroup ?? spec.security.runAsUser,
              seccompProfile: { type: "RuntimeDefault" },
            }
          : { seccompProfile: { type: "RuntimeDefault" } },
        // A native sidecar (an init container that keeps running): started, and listening, before the main container;
        // stopped after it, its preStop sleep keeping it up outliveSeconds longer (see sidecarPreStop).
        ...(sidecar
          ? {
              initContainers: [
                {
                  ...containerBasics(sidecar.name, sidecar.image.ref, sidecar),
                  restartPolicy: "Always",
                  lifecycle: { preStop: { sleep: { seconds: sidecarPreStop } } },
                  securityContext: {
                    ...containerSecurity(sidecar.security),
                    // Its own user where it differs from the pod's (the pod's is the main container's).
                    ...(sidecar.security.runAsUser === undefined
                      ? {}
                      : { runAsUser: sidecar.security.runAsUser, runAsGroup: sidecar.security.runAsGroup ?? sidecar.security.runAsUser }),
                  },
                  volumeMounts: [...fileMounts(sidecarFiles), ...(sidecar.security.readOnlyRootFilesystem ? [{ name: "tmp", mountPath: "/tmp" }] : [])],
                },
              ],
            }
          : {}),
        containers: [
          {
            ...containerBasics(spec.name, image, spec),
            env: [
              ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
              ...Object.keys(secretEnv).map((name) => ({
                name,
                valueFrom: { secretKeyRef: { name: secret!.metadata.name, key: name } },
              })),
            ],
            // The pod keeps serving while Services stop routing to it, then gets SIGTERM: no refused request.
            ...(shutdown && shutdown.drainSeconds > 0 ? { lifecycle: { preStop: { sleep: { seconds: shutdown.drainSeconds } } } } : {}),
            volumeMounts,
          },
        ],
        volumes,
      },
    };
    const metadata = { namespace, labels, annotations: { "pulumi.com/waitFor": rolloutWaitFor(replicas) } };
    const rollout = { ...opts, customTimeouts: { create: ROLLOUT_TIMEOUT, update: ROLLOUT_TIMEOUT } };
    // A workload with claims is a StatefulSet of one replica: its controller starts a replacement only once the old
    // pod is gone, on a rollout and also when the pod is deleted or evicted, so two Prometheus (or two carbons) never
    // open one TSDB (or whisper file); a Deployment would start the replacement at once, beside the terminating pod.
    // The claims are the program's own (volumes, not volumeClaimTemplates), so Pulumi deletes or keeps them.
    const workload: pulumi.CustomResource =
      claims.length > 0
        ? new k8s.apps.v1.StatefulSet(
            `${prefix}-statefulset`,
            {
              metadata,
              spec: {
                replicas,
                selector: { matchLabels: labels },
                serviceName: spec.name,
                podManagementPolicy: "OrderedReady",
                updateStrategy: { type: "RollingUpdate" },
                template,
              },
            },
            rollout,
          )
        : new k8s.apps.v1.Deployment(
            `${prefix}-deployment`,
            { metadata, spec: { replicas, selector: { matchLabels: labels }, strategy: ROLLING_UPDATE, template } },
            rollout,
          );

    const service = new k8s.core.v1.Service(
      `${prefix}-service`,
      {
        // A fixed name: it is the DNS name other workloads are given.
        metadata: { name: spec.name, namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: labels,
          ports: servicePorts(replicaPorts(spec)),
        },
      },
      { ...opts, dependsOn: [workload] },
    );
    if (sidecar) {
      // Headless: DNS answers with every replica's address. Not-ready ones too, so that a stopping replica stays
      // discoverable until it is gone (its sidecar is scraped after the main container's last hand-over).
      new k8s.core.v1.Service(
        `${prefix}-replicas`,
        {
          metadata: { name: this.replicasHost(spec.name), namespace, labels },
          spec: {
            clusterIP: "None",
            publishNotReadyAddresses: true,
            selector: labels,
            ports: servicePorts(sidecar.ports),
          },
        },
        opts,
      );
    }

    // Only the published ports leave the cluster; the others (carbon, statsd's admin port) stay ClusterIP.
    const published = replicaPorts(spec).filter((p) => p.publish !== undefined);
    const kindCluster = this.args.kindCluster;
    const nodePortService =
      published.length === 0
        ? undefined
        : new k8s.core.v1.Service(
            `${prefix}-nodeport`,
            {
              metadata: { name: `${spec.name}-nodeport`, namespace, labels },
              spec: {
                type: "NodePort",
                selector: labels,
                ports: servicePorts(published).map((port, i) => ({
                  ...port,
                  nodePort: kindCluster === undefined ? undefined : kindNodePort(published[i]!.publish!, this.args.topology),
                })),
              },
            },
            { ...opts, dependsOn: [workload] },
          );

    new k8s.networking.v1.NetworkPolicy(`${prefix}-ingress`, { metadata: { name: `${spec.name}-ingress`, namespace, labels }, spec: ingressPolicy(spec, labels) }, opts);

    const host = service.metadata.name;
    return {
      host,
      internalUrl: (portName) => pulumi.interpolate`http://${host}:${portOf(spec, portName).port}`,
      publicAddress: (port) => {
        const workloadPort = published.find((p) => p.publish === port);
        if (!workloadPort || !nodePortService) throw new Error(`workload ${spec.name} does not publish ${port}`);
        if (kindCluster !== undefined) {
          // kind/cluster.yaml maps each fixed NodePort to 127.0.0.1 on the topology's default host port.
          return nodePortService.spec.apply(() => `127.0.0.1:${stackHostPort(port, this.args.topology)}`);
        }
        return nodePortService.spec.apply((s) => {
          const assigned = s.ports.find((p) => p.name === workloadPort.name)?.nodePort;
          return `${this.args.nodeAddress}:${assigned}`;
        });
      },
    };
  }

  /** The image reference for the pod: a given reference, or a local build copied into the cluster. */
  private image(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): pulumi.Input<string> {
    if ("ref" in spec.image) return spec.image.ref;
    const loadCommand = this.args.imageLoadCommand ?? (this.args.kindCluster && kindLoadCommand(this.args.kindCluster));
    if (!loadCommand) throw new Error(`workload ${spec.name} is built locally, but nothing copies it into the cluster`);
    const ref = localImageName(this.args.namePrefix, spec.name, spec.image.build.tag);
    const built = buildLocalImage(prefix, ref, spec.image.build.context, parent);
    // Nodes cannot pull a local image: copy it in, again whenever the image changes or the cluster is a new one
    // (a recreated cluster has a new kube-system uid, which `pulumi up` reads each time).
    const load = new command.local.Command(
      `${prefix}-image-load`,
      { create: loadCommand, environment: { IMAGE: ref }, triggers: [built.imageId, this.clusterIdentity()] },
      { parent },
    );
    return load.stdout.apply(() => ref);
  }

  /** The uid of the cluster's kube-system namespace: a new cluster has a new one. */
  private clusterIdentity(): pulumi.Output<string> {
    this.clusterUid ??= k8s.core.v1.Namespace.get(`${this.name}-cluster-identity`, "kube-system", {
      parent: this,
      provider: this.provider,
      aliases: [rootAlias("cluster-identity", "kubernetes:core/v1:Namespace")],
    }).metadata.uid;
    return this.clusterUid;
  }
}
