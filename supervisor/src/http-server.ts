import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import { WS_SUBPROTOCOL } from '@cliscale/protocol';
import type { SupervisorConfig } from './config.js';
import { basicToken, credentialMatches, credentialToken } from './credential.js';
import type { StaticPage } from '@cliscale/service-kit';
import type { TerminalSession } from './terminal-session.js';

const MAX_DUMP_LINES = 1_000_000;

export interface SupervisorServerOptions {
  config: SupervisorConfig;
  log: Logger;
  page: StaticPage;
  /** The session, once the command has started (the port listens a moment before). */
  session: () => TerminalSession | undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, raw?: string): void {
  const text = raw ?? JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Refuses an upgrade with a real HTTP response (ttyd just drops the TCP connection, leaving clients guessing). */
function refuseUpgrade(socket: Duplex, status: number, error: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json;charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}

/** Same origin check as ttyd's -O: the Origin's host[:port] must equal the Host header. */
function originMatchesHost(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

export function createSupervisorServer({ config, log, page, session }: SupervisorServerOptions): Server {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });

  /** HTTP Basic on every path but /healthz, as ttyd does with -c. */
  const authorized = (req: IncomingMessage): boolean => {
    if (!config.credential) return true;
    const token = basicToken(req.headers.authorization);
    return token !== undefined && credentialMatches(token, config.credential);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: `method ${req.method} not allowed` });
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Basic realm="ttyd"');
      return sendJson(res, 401, { error: 'authentication required' });
    }
    const current = session();
    switch (url.pathname) {
      case '/token':
        // Byte-exact with ttyd, space after the colon included.
        return sendJson(res, 200, undefined, `{"token": "${config.credential ? credentialToken(config.credential) : ''}"}`);
      case '/status':
        if (!current) return sendJson(res, 503, { error: 'command is starting' });
        return sendJson(res, 200, current.status());
      case '/screen': {
        if (!current) return sendJson(res, 503, { error: 'command is starting' });
        const raw = url.searchParams.get('lines') ?? '0';
        const lines = Number(raw);
        if (!/^\d+$/.test(raw) || lines > MAX_DUMP_LINES) {
          return sendJson(res, 400, { error: `lines must be an integer between 0 and ${MAX_DUMP_LINES}` });
        }
        try {
          return sendJson(res, 200, await current.dump(lines));
        } catch (err) {
          return sendJson(res, 503, { error: `terminal model unavailable: ${(err as Error).message}` });
        }
      }
      default: {
        const asset = page.get(url.pathname);
        if (!asset) return sendJson(res, 404, { error: `no such path: ${url.pathname}` });
        res.writeHead(200, asset.headers);
        res.end(req.method === 'HEAD' ? undefined : asset.body);
      }
    }
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const current = session();
    // Exact path (ttyd accepts any prefix of /ws, a quirk we do not copy).
    if (url.pathname !== '/ws') return refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname}; use /ws`);
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes(WS_SUBPROTOCOL)) {
      return refuseUpgrade(socket, 400, `the WebSocket subprotocol "${WS_SUBPROTOCOL}" is required`);
    }
    if (config.checkOrigin && !originMatchesHost(req)) {
      log.warn({ origin: req.headers.origin }, 'refused a cross-origin WebSocket');
      return refuseUpgrade(socket, 403, 'origin not allowed');
    }
    // Browsers other than Safari resend Basic credentials on the upgrade; Safari does not (ttyd #1437), so a
    // missing header is accepted and the AuthToken in the init message decides. A wrong header is refused.
    if (config.credential && req.headers.authorization !== undefined && !authorized(req)) {
      return refuseUpgrade(socket, 401, 'wrong credentials');
    }
    if (!current) return refuseUpgrade(socket, 503, 'command is starting', { 'Retry-After': '1' });
    if (current.clientCount >= config.maxClients) {
      return refuseUpgrade(socket, 503, `too many clients (at most ${config.maxClients})`, { 'Retry-After': '5' });
    }
    wss.handleUpgrade(req, socket, head, (ws) => current.attach(ws));
  });

  // Bounded time for a slow or silent HTTP peer.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
