export interface RetryDelayOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY_DELAY: RetryDelayOptions = { initialMs: 100, maxMs: 5_000 };

/** Bounded exponential backoff whose pending wait can be cut short (on close). */
export class RetryDelay {
  private nextMs: number;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;
  private cancelled = false;

  constructor(private readonly options: RetryDelayOptions) {
    this.nextMs = options.initialMs;
  }

  /** Waits the current delay, then doubles it up to the maximum. */
  wait(): Promise<void> {
    if (this.cancelled) return Promise.resolve();
    const ms = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.options.maxMs);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  reset(): void {
    this.nextMs = this.options.initialMs;
  }

  /** Ends the pending wait now, and every later one at once. */
  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.wake?.();
  }
}
