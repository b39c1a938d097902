import { backoffDelay as delayFor } from '@cliscale/service-kit/backoff';

/**
 * Reconnect delays: exponential from 0.5 s, doubling, capped at 30 s, with jitter so that many tabs dropped
 * by the same server restart do not come back in lock-step, yet no retry is ever near-instant.
 */
export const BACKOFF_INITIAL_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
const RECONNECT = { initialMs: BACKOFF_INITIAL_MS, maxMs: BACKOFF_MAX_MS, jitter: true };

/** Delay before retry number `attempt` (0 for the first retry after a drop). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  return delayFor(attempt, RECONNECT, random);
}
