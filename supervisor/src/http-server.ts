import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { WS_SUBPROTOCOL } from '@cliscale/protocol';
import { basicToken, HEALTHY, refuseUpgrade, sendJson, type StaticPage } from '@cliscale/service-kit';
import type { SupervisorConfig } from './config.js';
import { credentialMatches, credentialToken } from './credential.js';
import type { TerminalSession } from './terminal-session.js';

const MAX_DUMP_LINES = 1_000_000;

export interface SupervisorServerOptions {
  config: SupervisorConfig;
  log: Logger;
  page: StaticPage;
  /** The session, once the command has started (the port listens a moment before). */
  session: () => TerminalSession | undefined;
}

/** ttyd's own answer to GET /token, byte for byte (a space after the colon). */
function sendTtydToken(res: ServerResponse, token: string): void {
  const text = `{"token": "${token}"}`;
  res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** The request's URL, or undefined when its target does not parse (`GET //[ HTTP/1.1`). */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
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

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    if (!url) return sendJson(res, 400, { error: 'malformed request target' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: `method ${req.method} not allowed` });
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, HEALTHY);
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Basic realm="ttyd"');
      return sendJson(res, 401, { error: 'authentication required' });
    }
    const current = session();
    switch (url.pathname) {
      case '/token':
        // Byte-exact with ttyd, space after the colon included.
        return sendTtydToken(res, config.credential ? credentialToken(config.credential) : '');
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
  };
  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: unknown) => {
      log.error({ err }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'internal error' });
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    if (!url) return refuseUpgrade(socket, 400, { error: 'malformed request target' });
    const current = session();
    // Exact path (ttyd accepts any prefix of /ws, a quirk we do not copy).
    if (url.pathname !== '/ws') return refuseUpgrade(socket, 404, { error: `no WebSocket endpoint at ${url.pathname}; use /ws` });
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes(WS_SUBPROTOCOL)) {
      return refuseUpgrade(socket, 400, { error: `the WebSocket subprotocol "${WS_SUBPROTOCOL}" is required` });
    }
    if (config.checkOrigin && !originMatchesHost(req)) {
      log.warn({ origin: req.headers.origin }, 'refused a cross-origin WebSocket');
      return refuseUpgrade(socket, 403, { error: 'origin not allowed' });
    }
    // Browsers other than Safari resend Basic credentials on the upgrade; Safari does not (ttyd #1437), so a
    // missing header is accepted and the AuthToken in the init message decides. A wrong header is refused.
    if (config.credential && req.headers.authorization !== undefined && !authorized(req)) {
      return refuseUpgrade(socket, 401, { error: 'wrong credentials' });
    }
    if (!current) return refuseUpgrade(socket, 503, { error: 'command is starting' }, { 'Retry-After': '1' });
    if (current.clientCount >= config.maxClients) {
      return refuseUpgrade(socket, 503, { error: `too many clients (at most ${config.maxClients})` }, { 'Retry-After': '5' });
    }
    wss.handleUpgrade(req, socket, head, (ws) => current.attach(ws));
  });

  // Bounded time for a slow or silent HTTP peer.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
