/** The sample endpoints: the same behaviour as the original tutorial's Flask app. */
import { setTimeout as sleep } from "node:timers/promises";

export interface Reply {
  readonly status: number;
  readonly body: string;
}

export interface HandlerContext {
  /** A uniform number in [0, 1); injectable so tests can pin the random endpoints. */
  readonly random: () => number;
}

export type Handler = (ctx: HandlerContext) => Reply | Promise<Reply>;

/** The tutorial's weights: 200 six times, 300 once, 400 twice, 500 once. */
export const STATUS_WEIGHTS: readonly (readonly [status: number, weight: number])[] = [
  [200, 6],
  [300, 1],
  [400, 2],
  [500, 1],
];

/** Picks a status from {@link STATUS_WEIGHTS} for a uniform draw `u` in [0, 1). */
export function drawStatus(u: number): number {
  const total = STATUS_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  let point = u * total;
  for (const [status, weight] of STATUS_WEIGHTS) {
    if (point < weight) return status;
    point -= weight;
  }
  return STATUS_WEIGHTS[STATUS_WEIGHTS.length - 1]![0];
}

/** Real CPU work that the optimiser cannot remove: a few milliseconds of integer hashing. */
export function burnCpu(iterations = 2_000_000): number {
  let h = 2166136261;
  for (let i = 0; i < iterations; i++) {
    h ^= i & 0xff;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

export const IO_TASK_MS = 2000;
export const RANDOM_SLEEP_MAX_MS = 5000;

/** Route templates and their handlers. The keys are the only route values metrics carry, with "unmatched" and "rejected". */
export const routes: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ["/", () => ({ status: 200, body: "Hello, World!" })],
  [
    "/io_task",
    async () => {
      await sleep(IO_TASK_MS);
      return { status: 200, body: "IO bound task finish!" };
    },
  ],
  [
    "/cpu_task",
    () => {
      burnCpu();
      return { status: 200, body: "CPU bound task finish!" };
    },
  ],
  [
    "/random_sleep",
    async ({ random }) => {
      const ms = Math.floor(random() * RANDOM_SLEEP_MAX_MS);
      await sleep(ms);
      return { status: 200, body: `random sleep ${ms} ms` };
    },
  ],
  [
    "/random_status",
    ({ random }) => {
      const status = drawStatus(random());
      return { status, body: `random status ${status}` };
    },
  ],
]);
