import { formatBytes } from './safe-tree-writer.js';

const CLEAR_LINE = '\r\x1b[2K';
const UPDATE_EVERY_MS = 200;

/**
 * A single terminal line that shows bytes so far, the total when known, and the rate; rewritten in place
 * (carriage return + erase line) at most every 200 ms so a fast download does not flood the replay.
 */
export class ProgressLine {
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private bytes = 0;

  constructor(private readonly print: (text: string) => void) {}

  update(bytes: number, total?: number, detail = ''): void {
    this.bytes = bytes;
    const now = Date.now();
    if (now - this.lastDraw < UPDATE_EVERY_MS) return;
    this.lastDraw = now;
    const percent = total ? ` ${String(Math.min(100, Math.floor((bytes / total) * 100))).padStart(3)}%` : '';
    const of = total ? ` of ${formatBytes(total)}` : '';
    this.print(`${CLEAR_LINE}  ${formatBytes(bytes)}${of}${percent}  ${this.rate()}${detail ? `  ${detail}` : ''}`);
    this.drawn = true;
  }

  /** Replaces the live line with a final summary. */
  done(summary: string): void {
    this.print(`${this.drawn ? CLEAR_LINE : ''}  ${summary}\r\n`);
  }

  /** Leaves the line as it is (a failure line follows on the next line). */
  abandon(): void {
    if (this.drawn) this.print('\r\n');
  }

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  rate(bytes = this.bytes): string {
    const seconds = Math.max(this.elapsedMs, 1) / 1000;
    return `${formatBytes(Math.round(bytes / seconds))}/s`;
  }
}
