// The cliscale browser terminal: xterm.js speaking ttyd's protocol, reconnecting by itself and replaying.
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { CAPABILITY_EXIT_STATUS, encodeInit, encodeInput, encodePause, encodeResize, encodeResume } from '@cliscale/protocol';
import { installClipboardKeys } from './clipboard.js';
import { ReconnectingConnection } from './connection.js';
import type { CliscaleDebugHook } from './debug-hook.js';
import { tokenUrl, webSocketUrl } from './endpoints.js';
import { FlowControl } from './flow-control.js';
import { KeyRow } from './mobile-keys.js';
import { applyPreferences, preferencesFromQuery, type ClientOptions, type OptionsHolder } from './preferences.js';
import { StatusBar } from './status-bar.js';

/** The supervisor keeps 100,000 lines of history; so does the page, so both buffers hold the same lines. */
const SCROLLBACK_LINES = 100_000;
/** Reset to initial state (RIS): in-band, so it also applies after output of the old socket still queued in xterm. */
const FULL_RESET = '\x1bc';
const DEFAULT_CLIENT_OPTIONS: ClientOptions = { readOnly: false, titleFixed: undefined };

const terminalEl = document.getElementById('terminal')!;
const keysEl = document.getElementById('keys')!;
const status = new StatusBar(document.getElementById('status')!);

const term = new Terminal({
  scrollback: SCROLLBACK_LINES,
  cursorBlink: true,
  fontSize: 14,
  // No web fonts (everything is served by us, and the CSP allows no other origin): the system's monospace.
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace',
  theme: { background: '#101010', foreground: '#d8d8d8' },
});
const fit = new FitAddon();
term.loadAddon(fit);
term.loadAddon(new WebLinksAddon());
term.open(terminalEl);
installClipboardKeys(term);

let clientOptions = DEFAULT_CLIENT_OPTIONS;
let serverTitle = '';
let programTitle = '';
/** Set when a socket opens: the page wipes its terminal (scrollback too) before that socket's first output. */
let resetBeforeOutput = false;
const outputListeners = new Set<(chunk: Uint8Array) => void>();

const connection = new ReconnectingConnection({
  webSocketUrl: webSocketUrl(location),
  tokenUrl: tokenUrl(location),
  initMessage: (token) =>
    encodeInit({ AuthToken: token, columns: term.cols, rows: term.rows, capabilities: [CAPABILITY_EXIT_STATUS] }),
  onOpen: () => {
    flow.newConnection();
    resetBeforeOutput = true;
  },
  onMessage: (message, wireBytes) => {
    switch (message.type) {
      case 'output': {
        status.addBytes(wireBytes);
        if (resetBeforeOutput) {
          resetBeforeOutput = false;
          flow.write(FULL_RESET);
        }
        const chunk = message.data;
        flow.write(chunk, outputListeners.size > 0 ? () => outputListeners.forEach((fn) => fn(chunk)) : undefined);
        break;
      }
      case 'title':
        serverTitle = message.title;
        updateTitle();
        break;
      case 'preferences':
        applyServerPreferences(message.preferences);
        break;
      default:
        // exit-status is kept by the connection for the "ended" state; unknown messages are ignored, as in ttyd.
        break;
    }
  },
  onState: (state) => status.setState(state),
});

const flow = new FlowControl(
  { write: (data, done) => term.write(data, done) },
  { pause: () => connection.send(encodePause()), resume: () => connection.send(encodeResume()) },
);

const keyRow = new KeyRow(
  keysEl,
  {
    get applicationCursorKeys() {
      return term.modes.applicationCursorKeysMode;
    },
    focus: () => term.focus(),
  },
  (data) => sendInput(data),
);

function sendInput(data: string | Uint8Array<ArrayBuffer>): void {
  if (clientOptions.readOnly) return;
  // Keys typed while (re)connecting are dropped: replaying stale keystrokes into a job is worse than losing them.
  connection.send(encodeInput(data));
}

function updateTitle(): void {
  document.title = clientOptions.titleFixed ?? (programTitle ? `${programTitle} | ${serverTitle}` : serverTitle || document.title);
}

function applyServerPreferences(fromServer: Record<string, unknown>): void {
  const fromQuery = preferencesFromQuery(location.search, { ...term.options, readOnly: false, titleFixed: '' });
  const result = applyPreferences(term as unknown as OptionsHolder, DEFAULT_CLIENT_OPTIONS, { ...fromServer, ...fromQuery });
  if (result.ignored.length > 0) console.info('cliscale: ignored preferences', result.ignored);
  clientOptions = result.client;
  term.options.disableStdin = clientOptions.readOnly;
  document.body.classList.toggle('read-only', clientOptions.readOnly);
  status.setReadOnly(clientOptions.readOnly);
  updateTitle();
  terminalEl.style.backgroundColor = term.options.theme?.background ?? '';
  // A new font size or family changes the cell size: refit, which sends the new size.
  scheduleFit();
}

term.onData((data) => sendInput(keyRow.transformTyped(data)));
term.onBinary((data) => sendInput(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
term.onTitleChange((title) => {
  programTitle = title;
  updateTitle();
});
term.onResize(({ cols, rows }) => {
  status.setSize(cols, rows);
  connection.send(encodeResize({ columns: cols, rows }));
});

let fitFrame: number | undefined;
function scheduleFit(): void {
  fitFrame ??= requestAnimationFrame(() => {
    fitFrame = undefined;
    fit.fit();
  });
}
new ResizeObserver(scheduleFit).observe(terminalEl);
window.addEventListener('resize', scheduleFit);

// A phone that wakes up or a laptop back on the network should not wait out a long backoff.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') connection.retryNow();
});
window.addEventListener('online', () => connection.retryNow());

const hook: CliscaleDebugHook = {
  term,
  state: () => status.current,
  readOnly: () => clientOptions.readOnly,
  opens: () => connection.opens,
  bytesReceived: () => status.bytesReceived,
  flow: () => ({
    pendingBytes: flow.pendingBytes,
    maxPendingBytes: flow.maxPendingBytes,
    paused: flow.paused,
    pauses: flow.pauses,
    resumes: flow.resumes,
  }),
  outputListeners,
  webSocketUrl: webSocketUrl(location),
};
window.__cliscale = hook;

fit.fit();
status.setSize(term.cols, term.rows);
term.focus();
connection.start();
