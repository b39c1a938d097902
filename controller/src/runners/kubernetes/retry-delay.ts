import { Backoff, type BackoffOptions } from '@cliscale/service-kit';

export type RetryDelayOptions = BackoffOptions;

export const DEFAULT_RETRY_DELAY: RetryDelayOptions = { initialMs: 100, maxMs: 5_000 };

/** Bounded exponential backoff whose pending wait can be cut short (on close). */
export class RetryDelay {
  private readonly backoff: Backoff;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;
  private cancelled = false;

  constructor(options: RetryDelayOptions) {
    this.backoff = new Backoff(options);
  }

  /** Waits the current delay, then doubles it up to the maximum. */
  wait(): Promise<void> {
    if (this.cancelled) return Promise.resolve();
    const ms = this.backoff.next();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  reset(): void {
    this.backoff.reset();
  }

  /** Ends the pending wait now, and every later one at once. */
  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.wake?.();
  }
}
