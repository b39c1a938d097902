// Minimal terminal page served by the supervisor at `/`. The full client (reconnect, status bar, mobile keys)
// is web-terminal/; this one speaks the same protocol through the same codec.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import {
  CAPABILITY_EXIT_STATUS,
  WS_SUBPROTOCOL,
  decodeServerMessage,
  encodeInit,
  encodeInput,
  encodeResize,
} from '@cliscale/protocol';

const statusBar = document.getElementById('status')!;
const term = new Terminal({ scrollback: 100_000, convertEol: false });
const fit = new FitAddon();
term.loadAddon(fit);
term.open(document.getElementById('terminal')!);
fit.fit();
term.focus();

const base = location.pathname.replace(/\/+$/, '');
async function fetchToken(): Promise<string> {
  try {
    const res = await fetch(`${base}/token`);
    return res.ok ? ((await res.json()) as { token: string }).token : '';
  } catch {
    return '';
  }
}

async function connect(): Promise<void> {
  const token = await fetchToken();
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${base}/ws`, [WS_SUBPROTOCOL]);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    ws.send(encodeInit({ AuthToken: token, columns: term.cols, rows: term.rows, capabilities: [CAPABILITY_EXIT_STATUS] }));
    statusBar.textContent = 'live';
  };
  ws.onmessage = (ev) => {
    const msg = decodeServerMessage(new Uint8Array(ev.data as ArrayBuffer));
    if (msg.type === 'output') term.write(msg.data);
    else if (msg.type === 'title') document.title = msg.title;
    else if (msg.type === 'exit-status') statusBar.textContent = `exited with code ${msg.status.exitCode}`;
  };
  ws.onclose = (ev) => {
    if (ev.code === 1000) return;
    statusBar.textContent = 'disconnected; reconnecting…';
    setTimeout(() => void connect(), 1000);
  };
  const onData = term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(encodeInput(d)));
  const onResize = term.onResize(({ cols, rows }) => ws.readyState === WebSocket.OPEN && ws.send(encodeResize({ columns: cols, rows })));
  ws.addEventListener('close', () => {
    onData.dispose();
    onResize.dispose();
  });
}

window.addEventListener('resize', () => fit.fit());
void connect();
