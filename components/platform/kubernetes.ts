/**
 * The Kubernetes platform: each workload becomes a Deployment, a Service named after it, an auto-named ConfigMap
 * for its files (so an edit rolls the pods) and a Secret for its secret environment. Published ports are
 * NodePorts that the kind cluster config forwards to 127.0.0.1 on the same host ports as Docker.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PORTS } from "../ports";
import { portOf, type Deployed, type Platform, type WorkloadProbe, type WorkloadSpec } from "../workload";
import { buildLocalImage } from "./docker";

export interface KubernetesPlatformArgs {
  readonly context: string;
  readonly namespace: string;
  /** kind cluster that receives locally built images (`kind load docker-image`). */
  readonly kindClusterName: string;
}

const PART_OF = "statsd-stack";

/** A ConfigMap key for a file path: ConfigMap keys allow `[-._a-zA-Z0-9]` only. */
export function configMapKey(path: string): string {
  return path.replace(/^\/+/, "").replace(/[^-._a-zA-Z0-9]/g, "_");
}

function probe(p: WorkloadProbe, initialDelaySeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe {
  const action = "http" in p ? { httpGet: { path: p.http.path, port: p.http.port } } : { tcpSocket: { port: p.tcp.port } };
  return { ...action, initialDelaySeconds, periodSeconds: 10, timeoutSeconds: 5, failureThreshold };
}

export class KubernetesPlatform implements Platform {
  readonly kind = "kubernetes";
  readonly provider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;

  constructor(private readonly args: KubernetesPlatformArgs, opts?: pulumi.CustomResourceOptions) {
    this.provider = new k8s.Provider("k8s", { context: args.context, namespace: args.namespace }, opts);
    this.namespace = new k8s.core.v1.Namespace(
      "namespace",
      { metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": PART_OF } } },
      { ...opts, provider: this.provider },
    );
  }

  deploy(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): Deployed {
    const opts: pulumi.CustomResourceOptions = { parent, provider: this.provider };
    const namespace = this.namespace.metadata.name;
    const labels = { "app.kubernetes.io/name": spec.name, "app.kubernetes.io/part-of": PART_OF };
    const image = this.image(prefix, spec, parent);

    const files = spec.files ?? [];
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

    const writable = spec.writablePaths ?? [];
    const volumes: k8s.types.input.core.v1.Volume[] = [
      ...(configMap ? [{ name: "config", configMap: { name: configMap.metadata.name } }] : []),
      ...writable.map((_, i) => ({ name: `data-${i}`, emptyDir: {} })),
      ...(spec.security.readOnlyRootFilesystem ? [{ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }] : []),
    ];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
      // One file per mount (subPath), so the image's other files in the same directory stay visible.
      ...files.map((f) => ({ name: "config", mountPath: f.path, subPath: configMapKey(f.path), readOnly: true })),
      ...writable.map((path, i) => ({ name: `data-${i}`, mountPath: path })),
      ...(spec.security.readOnlyRootFilesystem ? [{ name: "tmp", mountPath: "/tmp" }] : []),
    ];

    const nonRoot = spec.security.runAsUser !== undefined;
    const deployment = new k8s.apps.v1.Deployment(
      `${prefix}-deployment`,
      {
        metadata: { namespace, labels },
        spec: {
          replicas: spec.replicas ?? 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: nonRoot
                ? {
                    runAsNonRoot: true,
                    runAsUser: spec.security.runAsUser,
                    runAsGroup: spec.security.runAsGroup ?? spec.security.runAsUser,
                    fsGroup: spec.security.runAsGroup ?? spec.security.runAsUser,
                    seccompProfile: { type: "RuntimeDefault" },
                  }
                : { seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: spec.name,
                  image,
                  imagePullPolicy: "IfNotPresent",
                  args: spec.args ? [...spec.args] : undefined,
                  env: [
                    ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
                    ...Object.keys(secretEnv).map((name) => ({
                      name,
                      valueFrom: { secretKeyRef: { name: secret!.metadata.name, key: name } },
                    })),
                  ],
                  ports: spec.ports.map((p) => ({
                    name: p.name,
                    containerPort: p.port,
                    protocol: p.protocol.toUpperCase(),
                  })),
                  readinessProbe: probe(spec.probe, 5, 3),
                  livenessProbe: probe(spec.probe, 30, 6),
                  resources: {
                    requests: { cpu: spec.resources.cpuRequest, memory: spec.resources.memoryRequest },
                    limits: { cpu: spec.resources.cpuLimit, memory: spec.resources.memoryLimit },
                  },
                  securityContext: nonRoot
                    ? {
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: spec.security.readOnlyRootFilesystem,
                        capabilities: { drop: ["ALL"] },
                      }
                    : { readOnlyRootFilesystem: spec.security.readOnlyRootFilesystem },
                  volumeMounts,
                },
              ],
              volumes,
            },
          },
        },
      },
      opts,
    );

    const published = spec.ports.some((p) => p.publish !== undefined);
    const service = new k8s.core.v1.Service(
      `${prefix}-service`,
      {
        // A fixed name: it is the DNS name other workloads are given.
        metadata: { name: spec.name, namespace, labels },
        spec: {
          type: published ? "NodePort" : "ClusterIP",
          selector: labels,
          ports: spec.ports.map((p) => ({
            name: p.name,
            port: p.port,
            targetPort: p.port,
            protocol: p.protocol.toUpperCase(),
            nodePort: p.publish ? PORTS[p.publish].nodePort : undefined,
          })),
        },
      },
      { ...opts, dependsOn: [deployment] },
    );

    const host = service.metadata.name;
    return {
      host,
      internalUrl: (portName) => pulumi.interpolate`http://${host}:${portOf(spec, portName).port}`,
      publicUrl: (port) => {
        if (!spec.ports.some((p) => p.publish === port)) throw new Error(`workload ${spec.name} does not publish ${port}`);
        // kind/cluster.yaml maps each NodePort to 127.0.0.1:<default host port>.
        return service.spec.apply(() => `http://127.0.0.1:${PORTS[port].defaultHostPort}`);
      },
    };
  }

  /** The image reference for the pod: a given reference, or a local build loaded into the kind cluster. */
  private image(prefix: string, spec: WorkloadSpec, parent: pulumi.Resource): pulumi.Input<string> {
    if ("ref" in spec.image) return spec.image.ref;
    const built = buildLocalImage(`${prefix}-image`, spec.image.build, { parent });
    const ref = `${spec.image.build.repository}:${spec.image.build.tag}`;
    // kind nodes cannot pull a local image: copy it in, again whenever the image changes.
    const load = new command.local.Command(
      `${prefix}-kind-load`,
      {
        create: `kind load docker-image ${ref} --name ${this.args.kindClusterName}`,
        triggers: [built.repoDigest],
      },
      { parent },
    );
    return load.stdout.apply(() => ref);
  }
}
