/**
 * Output flow control, as ttyd's client intends it: count the bytes handed to xterm whose write callback has
 * not fired yet. Above HIGH_WATER the server is asked to PAUSE; once xterm has caught up below LOW_WATER it is
 * asked to RESUME. xterm parses in time slices between other tasks, so with at most ~2 MiB queued the tab
 * keeps handling keys and paints, and xterm never reaches its 50 MB "write data discarded" limit.
 * Input is not affected: a paused server still takes keys (Ctrl+C reaches the job at once).
 */
export const HIGH_WATER_BYTES = 2 * 1024 * 1024;
export const LOW_WATER_BYTES = 512 * 1024;

export interface WriteTarget {
  write(data: Uint8Array | string, done: () => void): void;
}

export interface PauseSignal {
  pause(): void;
  resume(): void;
}

export class FlowControl {
  pendingBytes = 0;
  maxPendingBytes = 0;
  paused = false;
  pauses = 0;
  resumes = 0;

  constructor(
    private readonly target: WriteTarget,
    private readonly signal: PauseSignal,
    private readonly highWater = HIGH_WATER_BYTES,
    private readonly lowWater = LOW_WATER_BYTES,
  ) {}

  /** Writes `data`; `parsed` runs once xterm has applied it. */
  write(data: Uint8Array | string, parsed?: () => void): void {
    const size = data.length;
    this.pendingBytes += size;
    if (this.pendingBytes > this.maxPendingBytes) this.maxPendingBytes = this.pendingBytes;
    this.target.write(data, () => {
      this.pendingBytes -= size;
      if (this.paused && this.pendingBytes < this.lowWater) {
        this.paused = false;
        this.resumes++;
        this.signal.resume();
      }
      parsed?.();
    });
    if (!this.paused && this.pendingBytes > this.highWater) {
      this.paused = true;
      this.pauses++;
      this.signal.pause();
    }
  }

  /**
   * A new connection starts unpaused on the server. Bytes of the old one may still be queued in xterm: they
   * keep counting, so the next write re-pauses the new connection if xterm is still behind.
   */
  newConnection(): void {
    this.paused = false;
  }
}
