import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { WS_SUBPROTOCOL } from '@cliscale/protocol';
import type { Access } from '@cliscale/database';
import type { ConnectionLimits } from './connection-limits.js';
import { SESSION_PATH, type RouteDeps } from './http-routes.js';
import { Refusal, refuseUpgrade } from './refusals.js';
import { authorize } from './terminal-access.js';

export interface UpgradeDeps extends RouteDeps {
  wss: WebSocketServer;
  limits: ConnectionLimits;
  publicOrigins?: string[];
  isClosing(): boolean;
  onTerminal(ws: import('ws').WebSocket, access: Access, peer: { ip: string; userAgent?: string }, release: () => void): void;
}

/**
 * WebSocket upgrades at /ws/{id} (programmatic clients) and /ws/{id}/ws (the page; under /ws/{id}/view the
 * same, read-only): path, subprotocol, Origin, credential and connection limits are checked before the
 * handshake; a refusal is an HTTP status with a JSON reason, never a silently dropped socket.
 */
export async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: UpgradeDeps): Promise<void> {
  socket.on('error', () => socket.destroy());
  const url = new URL(req.url ?? '/', 'http://gateway');
  const match = SESSION_PATH.exec(url.pathname);
  const sessionId = match && match[3] !== '/token' ? match[1] : undefined;
  const viewPath = match?.[2] === '/view';
  const facts = deps.facts(req);
  try {
    if (deps.isClosing()) throw new Refusal(503, 'shutting-down', 'the gateway is restarting; reconnect');
    if (!sessionId) throw new Refusal(404, 'not-found', 'terminals are at /ws/{sessionId}');
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes(WS_SUBPROTOCOL)) throw new Refusal(400, 'bad-request', `the WebSocket subprotocol must be "${WS_SUBPROTOCOL}"`);
    const origin = req.headers.origin;
    const allowed = deps.publicOrigins ?? [`${facts.https ? 'https' : 'http'}://${facts.host}`];
    // Browsers always send Origin; a page on another site must not open a terminal with this browser's cookie.
    if (origin !== undefined && !allowed.includes(origin)) throw new Refusal(403, 'forbidden-origin', 'cross-origin terminal connections are not allowed');
    // Counted before the token is spent: a connection refused for the limit leaves the token usable.
    const release = deps.limits.acquire(sessionId, facts.ip);
    let access;
    try {
      access = await authorize(req, url, { sessionId, viewPath }, { db: deps.db, verifier: deps.verifier, clientIp: facts.ip });
    } catch (err) {
      release();
      throw err;
    }
    deps.wss.handleUpgrade(req, socket, head, (ws) => deps.onTerminal(ws, access, { ip: facts.ip, userAgent: req.headers['user-agent'] }, release));
  } catch (err) {
    const refusal = err instanceof Refusal ? err : new Refusal(503, 'database-unavailable', 'the terminal service is unavailable; try again shortly');
    if (!(err instanceof Refusal)) deps.logger.error({ err }, 'upgrade failed');
    deps.refused(refusal, sessionId, req);
    refuseUpgrade(socket, refusal);
  }
}
