import WebSocket from 'ws';
import {
  CAPABILITY_EXIT_STATUS,
  WS_SUBPROTOCOL,
  decodeServerMessage,
  encodeInit,
  encodeInput,
  encodePause,
  encodeResize,
  encodeResume,
  type ExitStatus,
  type InitMessage,
  type ServerMessage,
} from '@cliscale/protocol';
import { HeadlessScreen, type ScreenDump } from '@cliscale/terminal-screen';

export interface ConnectOptions {
  init?: Partial<InitMessage> | false;
  headers?: Record<string, string>;
  protocols?: string[];
  /** Mirror output into a headless terminal of the init size, to compare screens. */
  screen?: boolean;
  /** Keep every output byte (default). Floods keep only a count and the tail. */
  keepOutput?: boolean;
}

const TAIL_BYTES = 64 * 1024;

/** A ttyd-protocol WebSocket client for tests: records every message and every output byte. */
export class TtyClient {
  readonly messages: ServerMessage[] = [];
  private chunks: Buffer[] = [];
  outputBytes = 0;
  /** The last output bytes, whatever keepOutput says. */
  tail = '';
  exitStatus?: ExitStatus;
  readonly closed: Promise<{ code: number; reason: string }>;
  screen?: HeadlessScreen;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket, options: ConnectOptions) {
    const init = options.init === false ? undefined : { columns: 80, rows: 24, ...options.init };
    if (options.screen && init) this.screen = new HeadlessScreen(init.columns, init.rows, 200_000);
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => {
      const msg = decodeServerMessage(new Uint8Array(data));
      if (msg.type === 'output') {
        const chunk = Buffer.from(msg.data);
        if (options.keepOutput !== false) this.chunks.push(chunk);
        this.outputBytes += chunk.length;
        this.tail = (this.tail + chunk.toString('latin1')).slice(-TAIL_BYTES);
        this.screen?.write(chunk);
        this.messages.push({ type: 'output', data: chunk });
      } else {
        this.messages.push(msg);
        if (msg.type === 'exit-status') this.exitStatus = msg.status;
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<TtyClient> {
    const ws = new WebSocket(url, options.protocols ?? [WS_SUBPROTOCOL], { headers: options.headers });
    const client = new TtyClient(ws, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        if (options.init !== false) {
          ws.send(encodeInit({ AuthToken: '', columns: 80, rows: 24, capabilities: [CAPABILITY_EXIT_STATUS], ...options.init }));
        }
        resolve(client);
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** Every output byte received so far (replay included), as one buffer. */
  output(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  text(): string {
    return this.output().toString('utf8');
  }

  /** Resolves once `pred` holds; checked after every message. */
  async until(pred: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.ws.readyState === WebSocket.CLOSED && !pred()) throw new Error(`socket closed before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.outputBytes} bytes, tail: ${JSON.stringify(this.text().slice(-300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitForTail(needle: string, timeoutMs = 60_000): Promise<void> {
    return this.until(() => this.tail.includes(needle), timeoutMs, `output ${needle}`);
  }

  waitForText(needle: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const test = () => (typeof needle === 'string' ? this.text().includes(needle) : needle.test(this.text()));
    return this.until(test, timeoutMs, `output ${String(needle)}`);
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  type(text: string): void {
    this.send(encodeInput(text));
  }

  resize(columns: number, rows: number): void {
    this.send(encodeResize({ columns, rows }));
  }

  pause(): void {
    this.send(encodePause());
  }

  resume(): void {
    this.send(encodeResume());
  }

  /** Waits until the headless mirror of this client has parsed everything received. */
  async screenDump(): Promise<ScreenDump> {
    const screen = this.screen;
    if (!screen) throw new Error('connect with { screen: true }');
    await new Promise<void>((resolve) => screen.barrier(resolve));
    return screen.dump();
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }

  dispose(): void {
    this.ws.terminate();
    this.screen?.dispose();
  }
}

/** The supervisor's own view of its terminal (its headless model), from GET /screen. */
export async function supervisorScreen(baseUrl: string, lines = 1_000_000): Promise<ScreenDump> {
  const res = await fetch(`${baseUrl}/screen?lines=${lines}`);
  if (!res.ok) throw new Error(`GET /screen: ${res.status} ${await res.text()}`);
  return (await res.json()) as ScreenDump;
}
