/** A deployed stack's outputs, as the scripts that check or load a stack read them. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * The outputs saved earlier in `file` (e.g. on a machine without the CLI), or else those `pulumi stack output --json
 * --stack <stack>` prints in the working directory. When the CLI cannot give them, throws with the reason alone: the
 * CLI missing from PATH, or the first line of its error.
 */
export function readStackOutputs(stack: string | undefined, file?: string): Record<string, unknown> {
  if (file) return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  try {
    return JSON.parse(execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack ?? ""], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as Record<string, unknown>;
  } catch (err) {
    throw new Error((err as NodeJS.ErrnoException).code === "ENOENT" ? "the pulumi CLI is not on PATH" : (err as Error).message.split("\n")[0], { cause: err });
  }
}
