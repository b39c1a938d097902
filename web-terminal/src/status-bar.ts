import type { ExitStatus } from '@cliscale/protocol';

/** What the page is doing, as the status bar shows it. */
export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  /** Waiting `delayMs` before retry number `attempt` (1-based) after `reason`. */
  | { kind: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  /** The server closed normally (1000): the job is over. `exit` is missing when no exit status arrived. */
  | { kind: 'ended'; exit?: ExitStatus };

const BYTES_REFRESH_MS = 250;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function describeState(state: ConnectionState, readOnly: boolean): { text: string; tone: string } {
  switch (state.kind) {
    case 'connecting':
      return { text: 'connecting…', tone: 'pending' };
    case 'live':
      return readOnly ? { text: 'read-only', tone: 'read-only' } : { text: 'live', tone: 'live' };
    case 'reconnecting': {
      const wait = state.delayMs >= 1000 ? ` in ${Math.round(state.delayMs / 1000)} s` : '';
      return { text: `reconnecting… (${state.reason}; retry ${state.attempt}${wait})`, tone: 'pending' };
    }
    case 'ended': {
      if (!state.exit) return { text: 'ended', tone: 'ended' };
      const signal = state.exit.signal ? ` (${state.exit.signal})` : '';
      return {
        text: `exited with code ${state.exit.exitCode}${signal}`,
        tone: state.exit.exitCode === 0 && !state.exit.signal ? 'success' : 'failure',
      };
    }
  }
}

/**
 * The one-line bar under the terminal: connection state (with `data-state`/`data-tone` for styling and
 * tests), the terminal size, and the bytes received by this page (replays included). Byte counts change on
 * every message, so they are painted at most every 250 ms.
 */
export class StatusBar {
  private readonly stateEl: HTMLElement;
  private readonly sizeEl: HTMLElement;
  private readonly bytesEl: HTMLElement;
  private state: ConnectionState = { kind: 'connecting' };
  private readOnly = false;
  bytesReceived = 0;
  private bytesTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly root: HTMLElement) {
    root.replaceChildren();
    this.stateEl = this.span('status-state');
    this.sizeEl = this.span('status-size');
    this.bytesEl = this.span('status-bytes');
    this.render();
    this.paintBytes();
  }

  private span(className: string): HTMLElement {
    const el = document.createElement('span');
    el.className = className;
    this.root.append(el);
    return el;
  }

  get current(): ConnectionState {
    return this.state;
  }

  setState(state: ConnectionState): void {
    this.state = state;
    this.render();
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    this.render();
  }

  setSize(columns: number, rows: number): void {
    this.sizeEl.textContent = `${columns}×${rows}`;
  }

  /** Paints at once when idle, then at most every 250 ms while bytes keep coming. */
  addBytes(n: number): void {
    this.bytesReceived += n;
    if (this.bytesTimer !== undefined) return;
    this.paintBytes();
    const tick = (): void => {
      if (Number(this.bytesEl.dataset.bytes) === this.bytesReceived) {
        this.bytesTimer = undefined;
        return;
      }
      this.paintBytes();
      this.bytesTimer = setTimeout(tick, BYTES_REFRESH_MS);
    };
    this.bytesTimer = setTimeout(tick, BYTES_REFRESH_MS);
  }

  private paintBytes(): void {
    this.bytesEl.textContent = `${formatBytes(this.bytesReceived)} received`;
    this.bytesEl.dataset.bytes = String(this.bytesReceived);
  }

  private render(): void {
    const { text, tone } = describeState(this.state, this.readOnly);
    this.stateEl.textContent = text;
    this.root.dataset.state = this.state.kind === 'live' && this.readOnly ? 'read-only' : this.state.kind;
    this.root.dataset.tone = tone;
  }
}
