import { Router, type Request, type Response } from 'express';
import type { SessionRow } from '@cliscale/database';
import type { ApiKey } from '../auth/api-keys.js';
import type { SessionService } from '../sessions/session-service.js';
import { decodeCursor, encodeCursor, sessionView } from '../sessions/session-view.js';
import type { IssuedToken } from '../tokens/token-issuer.js';
import { callerOf, requireApiKey } from './api-key-auth.js';
import {
  CreateSessionQuery,
  CreateSessionRequest,
  CreateSessionResponse,
  ListSessionsQuery,
  SessionIdParams,
  SessionList,
  TokenRequest,
  TokenResponse,
} from './api-schemas.js';
import { HttpError } from './http-error.js';
import { jsonBody } from './json-body.js';
import { publicBase, terminalUrl, webSocketUrl } from './public-urls.js';
import type { RateLimits } from './rate-limits.js';

export interface SessionRoutesOptions {
  sessions: SessionService;
  apiKeys: readonly ApiKey[];
  limits: RateLimits;
  publicUrl?: string;
  bodyLimitBytes: number;
  waitReadyMaxSeconds: number;
}

function access(req: Request, publicUrl: string | undefined, row: SessionRow, token: IssuedToken) {
  const base = publicBase(req, publicUrl);
  return {
    token: token.token,
    terminalUrl: terminalUrl(base, row.id, token.token),
    wsUrl: webSocketUrl(base, row.id),
    tokenExpiresAt: token.expiresAt.toISOString(),
  };
}

/** /api/sessions: every route needs an API key and only ever shows the caller's own sessions. */
export function sessionRoutes(o: SessionRoutesOptions): Router {
  const router = Router();
  router.use((req, res, next) => {
    // express resets req.baseUrl once the router is done; the metrics want the full route pattern.
    res.locals.routeBase = req.baseUrl;
    next();
  });
  router.use(requireApiKey(o.apiKeys, o.limits));
  const noStore = (res: Response) => res.set('cache-control', 'no-store');

  router.post('/', jsonBody(o.bodyLimitBytes, { required: true }), async (req, res) => {
    const caller = callerOf(res);
    const query = CreateSessionQuery.parse(req.query);
    const body = await o.sessions.check(CreateSessionRequest.parse(req.body));
    // Counted once the request is valid: a typo does not cost a creation.
    await o.limits.consumeSessionCreation(caller.clientIp ?? 'unknown');
    const created = await o.sessions.create(caller, body);
    let row = created.row;
    if (query.wait === 'ready') {
      const seconds = Math.min(query.wait_timeout ?? o.waitReadyMaxSeconds, o.waitReadyMaxSeconds);
      row = await o.sessions.waitUntilSettled(row.id, seconds * 1000);
    }
    noStore(res)
      .status(201)
      .location(`/api/sessions/${row.id}`)
      .json(CreateSessionResponse.parse({ sessionId: row.id, status: row.status, ...access(req, o.publicUrl, row, created.token), session: sessionView(row) }));
  });

  router.get('/', async (req, res) => {
    const query = ListSessionsQuery.parse(req.query);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new HttpError(400, 'cursor is not one this API returned');
    const page = await o.sessions.list(callerOf(res), { limit: query.limit, after, status: query.status });
    noStore(res).json(SessionList.parse({ sessions: page.rows.map(sessionView), nextCursor: page.next ? encodeCursor(page.next) : null }));
  });

  router.get('/:id', async (req, res) => {
    const { id } = SessionIdParams.parse(req.params);
    noStore(res).json(sessionView(await o.sessions.get(id, callerOf(res))));
  });

  router.delete('/:id', async (req, res) => {
    const { id } = SessionIdParams.parse(req.params);
    noStore(res).json(sessionView(await o.sessions.cancel(id, callerOf(res))));
  });

  router.post('/:id/tokens', jsonBody(o.bodyLimitBytes, { required: false }), async (req, res) => {
    const { id } = SessionIdParams.parse(req.params);
    const { mode } = TokenRequest.parse(req.body);
    const { row, token } = await o.sessions.issueToken(id, callerOf(res), mode);
    noStore(res)
      .status(201)
      .json(TokenResponse.parse({ sessionId: row.id, mode, ...access(req, o.publicUrl, row, token) }));
  });

  return router;
}
