/**
 * A row of keys that phone keyboards lack: Esc, Tab, a sticky Ctrl and the arrows. CSS shows it on narrow or
 * touch viewports only. Buttons never take the focus, so the soft keyboard stays open on the terminal.
 */
export interface KeyRowTerminal {
  /** DECCKM: arrows are sent as `ESC O x` instead of `ESC [ x` (vim, less, readline in some modes). */
  readonly applicationCursorKeys: boolean;
  focus(): void;
}

const ARROWS = { '←': 'D', '↑': 'A', '↓': 'B', '→': 'C' } as const;

/** The bytes for an arrow key, as xterm.js would send them for a physical key. */
export function arrowBytes(final: string, applicationCursorKeys: boolean, ctrl: boolean): string {
  if (ctrl) return `\x1b[1;5${final}`;
  return applicationCursorKeys ? `\x1bO${final}` : `\x1b[${final}`;
}

/** What Ctrl+<typed text> sends: a control character for one letter or @[\]^_ ?, otherwise the text unchanged. */
export function withCtrl(data: string): string {
  if (data.length !== 1) return data;
  const code = data.toUpperCase().charCodeAt(0);
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code & 0x1f);
  if (data === '?') return '\x7f';
  if (data === ' ') return '\x00';
  return data;
}

export class KeyRow {
  private ctrlSticky = false;
  private readonly ctrlButton: HTMLButtonElement;

  constructor(
    root: HTMLElement,
    private readonly term: KeyRowTerminal,
    private readonly send: (data: string) => void,
  ) {
    root.replaceChildren();
    this.button(root, 'Esc', 'Escape', () => this.emit('\x1b'));
    this.button(root, 'Tab', 'Tab', () => this.emit('\t'));
    this.ctrlButton = this.button(root, 'Ctrl', 'Control (applies to the next key)', () => this.setCtrl(!this.ctrlSticky));
    this.ctrlButton.setAttribute('aria-pressed', 'false');
    for (const [label, final] of Object.entries(ARROWS)) {
      this.button(root, label, `Arrow ${final}`, () => {
        const ctrl = this.ctrlSticky;
        this.setCtrl(false);
        this.send(arrowBytes(final, this.term.applicationCursorKeys, ctrl));
      });
    }
  }

  /** Applies a pending sticky Ctrl to text typed on the (soft) keyboard; the modifier is then released. */
  transformTyped(data: string): string {
    if (!this.ctrlSticky) return data;
    this.setCtrl(false);
    return withCtrl(data);
  }

  private emit(data: string): void {
    this.setCtrl(false);
    this.send(data);
  }

  private setCtrl(on: boolean): void {
    this.ctrlSticky = on;
    this.ctrlButton.classList.toggle('active', on);
    this.ctrlButton.setAttribute('aria-pressed', String(on));
  }

  private button(root: HTMLElement, label: string, title: string, action: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.title = title;
    b.tabIndex = -1;
    // pointerdown's default would move the focus (and close the phone's keyboard): keep it on the terminal.
    b.addEventListener('pointerdown', (ev) => ev.preventDefault());
    b.addEventListener('mousedown', (ev) => ev.preventDefault());
    b.addEventListener('click', () => {
      action();
      this.term.focus();
    });
    root.append(b);
    return b;
  }
}
