/**
 * Exponential backoff: `initialMs` doubling up to `maxMs`. With `jitter`, "equal jitter": a random point in
 * the upper half of the window, so that many clients dropped at once do not come back in lock-step, yet no
 * retry is ever near-instant. Pure (no timers, no Node APIs): the browser terminal uses it too.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  jitter?: boolean;
}

/** The delay before retry number `attempt` (0: the first retry). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const window = Math.min(o.maxMs, o.initialMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return o.jitter ? Math.round(window / 2 + (random() * window) / 2) : window;
}

/** A retry counter: `next()` gives the delay to wait now and moves on; `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  next(): number {
    return backoffDelay(this.attempt++, this.options);
  }

  reset(): void {
    this.attempt = 0;
  }
}
