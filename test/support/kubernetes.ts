/** Validates captured Kubernetes resources against the Kubernetes OpenAPI schema bundled in kubernetes-models. */
import type { CapturedResource } from "./program";

const MODELS: Record<string, [module: string, kind: string]> = {
  "kubernetes:apps/v1:Deployment": ["kubernetes-models/apps/v1", "Deployment"],
  "kubernetes:apps/v1:StatefulSet": ["kubernetes-models/apps/v1", "StatefulSet"],
  "kubernetes:core/v1:Service": ["kubernetes-models/v1", "Service"],
  "kubernetes:core/v1:ConfigMap": ["kubernetes-models/v1", "ConfigMap"],
  "kubernetes:core/v1:Secret": ["kubernetes-models/v1", "Secret"],
  "kubernetes:core/v1:Namespace": ["kubernetes-models/v1", "Namespace"],
  "kubernetes:core/v1:PersistentVolumeClaim": ["kubernetes-models/v1", "PersistentVolumeClaim"],
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": ["kubernetes-models/networking.k8s.io/v1", "NetworkPolicy"],
};

/** Throws with the schema's message when the object is invalid; returns the object's kind when it is valid. */
export async function validate(resource: CapturedResource): Promise<string> {
  const model = MODELS[resource.type];
  if (!model) throw new Error(`no schema for ${resource.type}`);
  const [module, kind] = model;
  const classes = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  const { apiVersion: _a, kind: _k, ...body } = resource.inputs;
  new classes[kind]!(body).validate();
  return kind;
}
