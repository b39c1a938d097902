import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { createGrant, databaseAnswers, findTerminalSession } from '@cliscale/database';
import { HEALTHY, readiness, sendJson, type StaticPage } from '@cliscale/service-kit';
import type { GatewayMetrics } from './metrics.js';
import { Refusal, sendErrorPage } from './refusals.js';
import { requestUrl } from './request-facts.js';
import { authorize, presentedToken } from './terminal-access.js';
import { terminalCookie, terminalPagePath } from './terminal-cookie.js';
import type { TokenVerifier } from './token-verifier.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** /ws/{id} (interactive) or /ws/{id}/view (read-only): the page, its WebSocket (/ws) and its token (/token). */
export const SESSION_PATH = new RegExp(`^/ws/(${UUID})(/view)?(/ws|/token)?/?$`);
/** The page's assets, relative to it: /ws/assets/… from /ws/{id}, /ws/{id}/assets/… from /ws/{id}/view. */
const ASSET_PATH = new RegExp(`^/ws(?:/${UUID})?(/assets/.+)$`);

export interface RouteDeps {
  db: Knex;
  verifier: TokenVerifier;
  page: StaticPage;
  metrics: GatewayMetrics;
  logger: Logger;
  cookieSecure?: boolean;
  facts(req: IncomingMessage): { ip: string; https: boolean; host: string };
  refused(refusal: Refusal, sessionId: string | undefined, req: IncomingMessage): void;
}

/**
 * Plain HTTP: the terminal page (after trading a one-time token, from the query or a Bearer header, for a
 * cookie and redirecting to a URL without it), its assets, the page's token endpoint, and health, readiness and metrics.
 */
export async function handleHttp(req: IncomingMessage, res: ServerResponse, deps: RouteDeps): Promise<void> {
  const url = requestUrl(req);
  if (!url) return sendJson(res, 400, { error: 'the request target is not a valid URL', reason: 'bad-request' });
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `method ${req.method} not allowed` });
  if (url.pathname === '/healthz') return sendJson(res, 200, HEALTHY);
  if (url.pathname === '/readyz') return sendReadiness(res, deps.db);
  if (url.pathname === '/metrics') {
    res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
    return void res.end(await deps.metrics.registry.metrics());
  }
  const assetPath = ASSET_PATH.exec(url.pathname)?.[1];
  if (assetPath) {
    const asset = deps.page.get(assetPath);
    if (!asset) return sendJson(res, 404, { error: 'no such asset' });
    res.writeHead(200, asset.headers);
    return void res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
  const match = SESSION_PATH.exec(url.pathname);
  if (!match) return sendJson(res, 404, { error: 'not found' });
  const sessionId = match[1]!;
  // The page asks for a ttyd AuthToken before each connect; here the cookie authenticates, so it is empty.
  if (match[3] === '/token') return sendJson(res, 200, { token: '' });
  if (match[3] === '/ws') return sendJson(res, 426, { error: 'this is the WebSocket endpoint (subprotocol tty)' });

  const facts = deps.facts(req);
  try {
    const target = { sessionId, viewPath: match[2] === '/view' };
    const access = await authorize(req, url, target, { db: deps.db, verifier: deps.verifier, clientIp: facts.ip });
    // A token (as ?token= or Authorization: Bearer) is spent here: the browser gets the cookie in exchange,
    // or the page it is about to load could not connect.
    if (presentedToken(req, url)) {
      const session = await findTerminalSession(deps.db, sessionId);
      const value = await createGrant(deps.db, access, session!.expires_at);
      res.writeHead(303, {
        location: terminalPagePath(sessionId, access.mode),
        'set-cookie': terminalCookie(sessionId, access.mode, value, session!.expires_at, deps.cookieSecure ?? facts.https),
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      return void res.end();
    }
    const index = deps.page.get('/')!;
    res.writeHead(200, { ...index.headers, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : index.body);
  } catch (err) {
    const refusal = err instanceof Refusal ? err : new Refusal(503, 'database-unavailable', 'the terminal service is unavailable; try again shortly');
    if (!(err instanceof Refusal)) deps.logger.error({ err }, 'terminal page failed');
    deps.refused(refusal, sessionId, req);
    sendErrorPage(res, refusal);
  }
}

async function sendReadiness(res: ServerResponse, db: Knex): Promise<void> {
  const { status, body } = readiness(await databaseAnswers(db));
  sendJson(res, status, body);
}
