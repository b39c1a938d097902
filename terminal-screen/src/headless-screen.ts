import xtermHeadless from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';

// Under Node ESM the named exports of these CommonJS bundles crash at run time (shared/STACK.md).
const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

/** Reset to initial state (ESC c). Starts every replay so a client's old screen and scrollback are wiped. */
export const FULL_RESET = '\x1bc';

/** A plain-text view of the terminal, like `tmux capture-pane -p`: what tests and `GET /screen` compare. */
export interface ScreenDump {
  columns: number;
  rows: number;
  cursor: { x: number; y: number };
  /** Which buffer is shown: the alternate one belongs to full-screen programs (vim, less, htop). */
  buffer: 'normal' | 'alternate';
  /** Lines of scrollback above the screen. */
  scrollbackLines: number;
  /** The last `lines.length` lines of the active buffer (scrollback then screen), right-trimmed. */
  lines: string[];
}

/**
 * The supervisor's model of the terminal: every byte the command prints goes through it, in order, so
 * a client that connects at any time can be sent exactly what is on screen and in the scrollback.
 */
export class HeadlessScreen {
  private readonly term: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;

  constructor(columns: number, rows: number, scrollback: number) {
    this.term = new Terminal({ cols: columns, rows, scrollback, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
  }

  /** Parses asynchronously; `done` runs once these bytes (and all before them) are applied. */
  write(data: Uint8Array | string, done?: () => void): void {
    this.term.write(data, done);
  }

  /** Runs `fn` after everything written so far is applied, and before anything written later. */
  barrier(fn: () => void): void {
    this.term.write('', fn);
  }

  resize(columns: number, rows: number): void {
    this.term.resize(columns, rows);
  }

  /**
   * Escape sequences that rebuild screen, scrollback, cursor, modes and colours on a blank terminal; with
   * `screenOnly`, without the scrollback (milliseconds instead of up to ~2 s for 100k full-width lines).
   */
  serialize(screenOnly = false): string {
    return FULL_RESET + this.serializer.serialize(screenOnly ? { scrollback: 0 } : undefined);
  }

  /** Lines of history above the screen. */
  get historyLines(): number {
    return this.term.buffer.active.baseY;
  }

  dump(maxLines = Number.MAX_SAFE_INTEGER): ScreenDump {
    const buf = this.term.buffer.active;
    const total = buf.length;
    const first = Math.max(0, total - Math.max(this.term.rows, maxLines));
    const lines: string[] = [];
    for (let i = first; i < total; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    return {
      columns: this.term.cols,
      rows: this.term.rows,
      cursor: { x: buf.cursorX, y: buf.cursorY },
      buffer: buf.type,
      scrollbackLines: buf.baseY,
      lines,
    };
  }

  dispose(): void {
    this.term.dispose();
  }
}
