import type { Terminal } from '@xterm/xterm';

/**
 * Copy and paste keys, as in most terminal emulators on Linux and Windows:
 * - Ctrl+C with a selection copies it (and sends nothing); without a selection it is ^C for the job.
 * - Ctrl+Shift+C copies; Ctrl+Shift+V pastes. Cmd+C / Cmd+V on macOS and the context menu work natively.
 * Pasting goes through xterm's own paste handler (bracketed paste when the program asked for it).
 */
export function installClipboardKeys(term: Terminal): void {
  term.attachCustomKeyEventHandler((ev) => {
    if (!ev.ctrlKey || ev.altKey || ev.metaKey) return true;
    const key = ev.key.toLowerCase();
    if (key === 'c' && (ev.shiftKey || term.hasSelection())) {
      if (ev.type === 'keydown') {
        ev.preventDefault();
        copyText(term, term.getSelection());
        if (!ev.shiftKey) term.clearSelection();
      }
      return false;
    }
    if (key === 'v' && ev.shiftKey) {
      // Not handled by xterm and not prevented: the browser turns it into a paste event on xterm's textarea.
      return false;
    }
    return true;
  });
}

function copyText(term: Terminal, text: string): void {
  if (!text) return;
  if (window.isSecureContext && navigator.clipboard) {
    navigator.clipboard.writeText(text).catch(() => copyWithCommand(term, text));
  } else {
    copyWithCommand(term, text);
  }
}

/** Plain http on a non-local host has no Clipboard API: the old copy command on a scratch textarea still works. */
function copyWithCommand(term: Terminal, text: string): void {
  const scratch = document.createElement('textarea');
  scratch.value = text;
  scratch.setAttribute('readonly', '');
  scratch.style.position = 'fixed';
  scratch.style.opacity = '0';
  document.body.append(scratch);
  scratch.select();
  try {
    document.execCommand('copy');
  } finally {
    scratch.remove();
    term.focus();
  }
}
