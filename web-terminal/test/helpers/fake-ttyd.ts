import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_SUBPROTOCOL, decodeClientMessage, encodeOutput, encodePreferences, encodeTitle, type ClientMessage, type InitMessage } from '@cliscale/protocol';

const DIST = new URL('../../dist/', import.meta.url);
const TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css', map: 'application/json' };

export interface FakeConnection {
  path: string;
  ws: WebSocket;
  init?: InitMessage;
  messages: ClientMessage[];
  /** Whether every message the page sent was a binary frame (ttyd's client sends binary). */
  allBinary: boolean;
}

/**
 * A minimal ttyd-like server for tests of the page alone: serves web-terminal/dist at any path (the page for
 * any path, assets under any `…/assets/`), `…/token`, and a WebSocket at any path ending in `/ws`. Like ttyd,
 * it sends title, preferences and output on each connection, and no terminal reset (it has nothing to replay).
 */
export class FakeTtyd {
  readonly requests: string[] = [];
  readonly connections: FakeConnection[] = [];
  /** What `/token` answers: a token, or a broken body. */
  tokenBody = '{"token": "secret-token"}';
  preferences: Record<string, unknown> = {};
  /** Output for connection number n (1-based), sent after title and preferences. */
  output = (n: number): string => `connection ${n} line A\r\nconnection ${n} line B\r\n`;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeTtyd> {
    let fake: FakeTtyd | undefined;
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false) });
    const server = createServer((req, res) => {
      void fake!.serve(req).then(({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body));
    });
    server.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!path.endsWith('/ws')) return socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => fake!.attach(path, ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeTtyd(server, (server.address() as AddressInfo).port);
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async serve(req: IncomingMessage): Promise<{ status: number; type: string; body: string | Buffer }> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push(path);
    if (path.endsWith('/token')) return { status: 200, type: 'application/json', body: this.tokenBody };
    const asset = /\/assets\/([\w.]+)$/.exec(path);
    if (asset) {
      try {
        const ext = asset[1]!.split('.').pop()!;
        return { status: 200, type: TYPES[ext] ?? 'application/octet-stream', body: await readFile(new URL(asset[1]!, DIST)) };
      } catch {
        return { status: 404, type: 'text/plain', body: 'no such asset' };
      }
    }
    return { status: 200, type: 'text/html', body: await readFile(new URL('index.html', DIST)) };
  }

  private attach(path: string, ws: WebSocket): void {
    const conn: FakeConnection = { path, ws, messages: [], allBinary: true };
    this.connections.push(conn);
    const n = this.connections.length;
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) conn.allBinary = false;
      const msg = decodeClientMessage(new Uint8Array(data));
      conn.messages.push(msg);
      if (msg.type !== 'init' || conn.init) return;
      conn.init = msg.init;
      ws.send(encodeTitle(`fake job ${n}`));
      ws.send(encodePreferences(this.preferences));
      ws.send(Uint8Array.of(0x39, 0x7b, 0x7d)); // '9{}': a command byte no client knows
      ws.send(encodeOutput(this.output(n)));
    });
  }
}
