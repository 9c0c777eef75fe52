/**
 * Reads a Dockerfile and a .dockerignore well enough to replay an image build without Docker: the instructions of
 * each stage, and the files of the build context.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: readonly Instruction[];
}

/** The stages of a Dockerfile, in order; `\` continuations joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const space = line.search(/\s/);
    const keyword = line.slice(0, space).toUpperCase();
    const args = line.slice(space + 1).trim();
    if (keyword === "FROM") {
      const [image, as, name] = args.split(/\s+/);
      stages.push({ from: image!, ...(as?.toUpperCase() === "AS" ? { name } : {}), instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${keyword} before FROM`);
      stages[stages.length - 1]!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The arguments of an exec-form instruction (`["node", "x.js"]`). */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`not exec form: ${args}`);
  return parsed;
}

/** `ENV A=1 B=2` as pairs (values without spaces, which is all this project's Dockerfile uses). */
export function envPairs(args: string): Record<string, string> {
  return Object.fromEntries(
    args.split(/\s+/).map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 1) throw new Error(`ENV ${args}: expected KEY=value pairs`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

/** A .dockerignore pattern as a regular expression over context-relative paths, with Go's filepath.Match wildcards. */
function ignoreRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map((segment) =>
      segment === "**"
        ? ".*"
        : segment.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]"),
    )
    .join("/");
  return new RegExp(`^${body}$`);
}

/** Whether `.dockerignore` keeps `relative` out of the context: a match on the path or on any of its parent folders. */
export function ignoredBy(patterns: readonly string[], relative: string): boolean {
  const parts = relative.split("/");
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const regex = ignoreRegex(negated ? raw.slice(1) : raw);
    const matches = parts.some((_, k) => regex.test(parts.slice(0, k + 1).join("/")));
    if (matches) ignored = !negated;
  }
  return ignored;
}

/** Copies `dir` to `target` as Docker would send it as the build context: without what `.dockerignore` names. */
export function copyContext(dir: string, target: string): string[] {
  const patterns = readFileSync(path.join(dir, ".dockerignore"), "utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const copied: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (ignoredBy(patterns, child)) continue;
      if (entry.isDirectory()) walk(child);
      else {
        mkdirSync(path.join(target, relative), { recursive: true });
        cpSync(path.join(dir, child), path.join(target, child));
        copied.push(child);
      }
    }
  };
  walk("");
  return copied.sort();
}
