/** Bounded polling, for tests and for the checks that prove a running stack. */
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `predicate` every `intervalMs` until it holds or `timeoutMs` passes; returns whether it held. A predicate
 * that throws (a connection refused while a server starts) counts as not holding yet.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  intervalMs = 20,
): Promise<boolean> {
  const holds = async () => {
    try {
      return await predicate();
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await holds()) return true;
    await sleep(intervalMs);
  }
  return holds();
}
