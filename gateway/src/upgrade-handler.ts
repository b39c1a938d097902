import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { WS_SUBPROTOCOL } from '@cliscale/protocol';
import type { Access } from '@cliscale/database';
import type { ConnectionLimits } from './connection-limits.js';
import { SESSION_PATH, type RouteDeps } from './http-routes.js';
import { Refusal, refuseUpgrade } from './refusals.js';
import { requestUrl } from './request-facts.js';
import { authorize } from './terminal-access.js';

export interface UpgradeDeps extends RouteDeps {
  wss: WebSocketServer;
  limits: ConnectionLimits;
  publicOrigins?: string[];
  isClosing(): boolean;
  onTerminal(ws: WebSocket, access: Access, peer: { ip: string; userAgent?: string }, release: () => void): void;
}

/** What RFC 6455 asks of an upgrade request (checked before a token is spent; `ws` would refuse it later). */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * WebSocket upgrades at /ws/{id} (programmatic clients) and /ws/{id}/ws (the page; under /ws/{id}/view the
 * same, read-only): path, handshake headers, subprotocol, Origin, credential and connection limits are
 * checked before the handshake; a refusal is an HTTP status with a JSON reason, never a silently dropped
 * socket, and nothing a client sends (target, headers, cookie) makes it throw. A connection slot, once
 * taken, is given back when the socket closes, whatever happened in between.
 */
export async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: UpgradeDeps): Promise<void> {
  socket.on('error', () => socket.destroy());
  let sessionId: string | undefined;
  try {
    const url = requestUrl(req);
    if (!url) throw new Refusal(400, 'bad-request', 'the request target is not a valid URL');
    const match = SESSION_PATH.exec(url.pathname);
    sessionId = match && match[3] !== '/token' ? match[1] : undefined;
    const viewPath = match?.[2] === '/view';
    const facts = deps.facts(req);
    if (deps.isClosing()) throw new Refusal(503, 'shutting-down', 'the gateway is restarting; reconnect');
    if (!sessionId) throw new Refusal(404, 'not-found', 'terminals are at /ws/{sessionId}');
    const key = req.headers['sec-websocket-key'];
    const version = req.headers['sec-websocket-version'];
    if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key.trim())) throw new Refusal(400, 'bad-request', 'the Sec-WebSocket-Key header is missing or invalid');
    if (version !== '13' && version !== '8') throw new Refusal(400, 'bad-request', 'the Sec-WebSocket-Version must be 13');
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes(WS_SUBPROTOCOL)) throw new Refusal(400, 'bad-request', `the WebSocket subprotocol must be "${WS_SUBPROTOCOL}"`);
    const origin = req.headers.origin;
    const allowed = deps.publicOrigins ?? [`${facts.https ? 'https' : 'http'}://${facts.host}`];
    // Browsers always send Origin; a page on another site must not open a terminal with this browser's cookie.
    if (origin !== undefined && !allowed.includes(origin)) throw new Refusal(403, 'forbidden-origin', 'cross-origin terminal connections are not allowed');
    // Counted before the token is spent: a connection refused for the limit leaves the token usable.
    const release = deps.limits.acquire(sessionId, facts.ip);
    // Given back when the socket goes, on every path: a refusal, a client gone while its token was checked,
    // a handshake `ws` refuses, or (after the handshake) the terminal's end.
    socket.once('close', release);
    if (socket.destroyed) release();
    const access = await authorize(req, url, { sessionId, viewPath }, { db: deps.db, verifier: deps.verifier, clientIp: facts.ip });
    if (socket.destroyed || !socket.writable) {
      deps.logger.info({ sessionId }, 'client left during the upgrade');
      return;
    }
    deps.wss.handleUpgrade(req, socket, head, (ws) => {
      // ws reports a client's protocol error (invalid UTF-8, a message over the limit, a bad frame) as
      // 'error', then closes with its code (1007, 1009, 1002): without a listener that would end the process.
      ws.on('error', (err) => deps.logger.info({ sessionId, err: err.message }, 'client protocol error'));
      deps.onTerminal(ws, access, { ip: facts.ip, userAgent: req.headers['user-agent'] }, release);
    });
  } catch (err) {
    const refusal = err instanceof Refusal ? err : new Refusal(503, 'database-unavailable', 'the terminal service is unavailable; try again shortly');
    if (!(err instanceof Refusal)) deps.logger.error({ err }, 'upgrade failed');
    try {
      deps.refused(refusal, sessionId, req);
    } catch (auditErr) {
      deps.logger.error({ err: auditErr }, 'recording a refusal failed');
    }
    refuseUpgrade(socket, refusal);
  }
}
