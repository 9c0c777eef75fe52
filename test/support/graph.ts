/** Queries over the resources a mocked program run captured. */
import type { CapturedResource, ProgramRun } from "./program";

export function ofType(run: ProgramRun, type: string): CapturedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function one(run: ProgramRun, type: string, nameIncludes: string): CapturedResource {
  const found = ofType(run, type).filter((r) => r.name.includes(nameIncludes));
  if (found.length !== 1) throw new Error(`expected one ${type} named *${nameIncludes}*, found ${found.map((r) => r.name).join(", ") || "none"}`);
  return found[0]!;
}

/** `type` counts, sorted by type, for an exact comparison of the resource graph. */
export function typeCounts(run: ProgramRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The chain of parents of a resource, nearest first, as `type::name`. */
export function parentChain(run: ProgramRun, resource: CapturedResource): string[] {
  const chain: string[] = [];
  let parent = resource.parent;
  while (parent) {
    chain.push(parent);
    parent = run.resources.find((r) => `${r.type}::${r.name}` === parent)?.parent;
  }
  return chain;
}

/** Docker `envs` (["K=V", ...]) as an object. */
export function envOf(container: CapturedResource): Record<string, string> {
  return Object.fromEntries((container.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** The uploaded file at `path` in a Docker container. */
export function uploadOf(container: CapturedResource, path: string): string {
  const upload = (container.inputs.uploads as Array<{ file: string; content: string }>).find((u) => u.file === path);
  if (!upload) throw new Error(`${container.name} has no upload at ${path}`);
  return upload.content;
}
