/**
 * Reconnect delays: exponential from 0.5 s, doubling, capped at 30 s, with "equal jitter" (a random point in
 * the upper half of the window) so that many tabs dropped by the same server restart do not come back in
 * lock-step, yet no retry is ever near-instant in a tight loop.
 */
export const BACKOFF_INITIAL_MS = 500;
export const BACKOFF_MAX_MS = 30_000;

/** Delay before retry number `attempt` (0 for the first retry after a drop). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const window = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(window / 2 + (random() * window) / 2);
}
