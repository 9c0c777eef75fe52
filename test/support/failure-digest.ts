/**
 * A failed CI run's digest: the failing tests' names and the first lines of their errors, printed at the end of the
 * log, where a reader of a long log (or a tool that keeps only its ends) looks first. Reads the TAP that
 * `node --test` writes when its output is not a terminal.
 *
 *   node --import tsx test/support/failure-digest.ts <tap-log>
 */
import { readFileSync } from "node:fs";

/** A failed test and the first lines of its error. */
export interface Failure {
  readonly name: string;
  readonly error: string[];
}

/** The failures of the tests themselves, not of the suites that failed because a test in them did (`subtestsFailed`). */
export function failures(tap: string, errorLines: number): Failure[] {
  const lines = tap.split("\n");
  const found: Failure[] = [];
  for (let i = 0; i < lines.length; i++) {
    const notOk = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]!);
    if (!notOk) continue;
    const block = yamlBlock(lines, i + 1, notOk[1]!.length);
    const type = block.find((l) => /^\s*failureType:/.test(l));
    if (!type || /subtestsFailed/.test(type)) continue;
    found.push({ name: notOk[2]!, error: errorOf(block).slice(0, errorLines) });
  }
  return found;
}

/** The lines of the `---` ... `...` block after a result line, if there is one. */
function yamlBlock(lines: readonly string[], from: number, indent: number): string[] {
  if (lines[from]?.trim() !== "---") return [];
  const end = lines.findIndex((l, i) => i > from && l.trim() === "..." && l.length - l.trimStart().length === indent + 2);
  return lines.slice(from + 1, end < 0 ? undefined : end);
}

/** The `error:` field: a quoted scalar, or a `|-` block of deeper-indented lines. */
function errorOf(block: readonly string[]): string[] {
  const at = block.findIndex((l) => /^\s*error:/.test(l));
  if (at < 0) return [];
  const key = block[at]!;
  const indent = key.length - key.trimStart().length;
  const inline = key.trim().slice("error:".length).trim();
  if (!/^[|>]/.test(inline)) return [inline.replace(/^'(.*)'$/, "$1")];
  const body: string[] = [];
  for (const line of block.slice(at + 1)) {
    if (line.trim() !== "" && line.length - line.trimStart().length <= indent) break;
    body.push(line.slice(indent + 2));
  }
  return body;
}

/** At most this many failures, each with this many lines: the first failure is usually the cause of the others. */
const SHOWN = 4;
const ERROR_LINES = 25;

if (require.main === module) {
  const log = process.argv[2];
  if (!log) {
    console.error("usage: failure-digest.ts <tap-log>");
    process.exit(2);
  }
  const all = failures(readFileSync(log, "utf8"), ERROR_LINES);
  console.log(`\n== failing tests: ${all.length}${all.length > SHOWN ? ` (the first ${SHOWN} below)` : ""}`);
  for (const f of all.slice(0, SHOWN)) console.log(`\n-- ${f.name}\n${f.error.map((l) => `   ${l}`).join("\n")}`);
  for (const f of all.slice(SHOWN)) console.log(`-- ${f.name}`);
}
