/**
 * One round of the load: the tutorial's endpoints in its order, then a pause. Shared by `npm run load` and the
 * generated k6 script (load/k6-script.js), so the two cannot drift. No imports: the root project reads it directly.
 */
export const ROUND = ["/", "/io_task", "/cpu_task", "/random_sleep", "/random_status"] as const;

/** The pause between rounds, in seconds (the tutorial's k6 script sleeps this long). */
export const DEFAULT_PAUSE_SECONDS = 0.5;
