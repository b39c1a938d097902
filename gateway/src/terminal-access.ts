import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import { consumeToken, findGrant, type Access, type TokenRefusal } from '@cliscale/database';
import { bearerToken } from '@cliscale/service-kit';
import { Refusal } from './refusals.js';
import { terminalCookieValue } from './terminal-cookie.js';
import type { TokenVerifier } from './token-verifier.js';

/** The one-time token a request presents: `?token=` (browsers' first visit, ttyd clients) or `Authorization: Bearer`. */
export function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  return url.searchParams.get('token') || bearerToken(req.headers.authorization);
}

/**
 * Who may use this session's terminal, and how: a one-time token (verified, then its jti consumed) or the
 * cookie a browser got for an earlier token. At the read-only path (/ws/{id}/view) access is view-only,
 * whatever the credential allows. Throws a Refusal that says why not.
 */
export async function authorize(req: IncomingMessage, url: URL, target: AccessTarget, deps: AccessDeps): Promise<Access> {
  const access = await grantedAccess(req, url, target, deps);
  return target.viewPath ? { ...access, mode: 'view' } : access;
}

/** The terminal asked for: a session, at its interactive (/ws/{id}) or read-only (/ws/{id}/view) path. */
interface AccessTarget {
  sessionId: string;
  viewPath: boolean;
}

interface AccessDeps {
  db: Knex;
  verifier: TokenVerifier;
  clientIp: string;
}

async function grantedAccess(req: IncomingMessage, url: URL, { sessionId, viewPath }: AccessTarget, deps: AccessDeps): Promise<Access> {
  const token = presentedToken(req, url);
  if (token) {
    const claims = await deps.verifier.verify(token, sessionId);
    const spent = await consumeToken(deps.db, claims, deps.clientIp);
    if ('refused' in spent) throw tokenRefusal(spent.refused);
    return spent.access;
  }
  const cookie = terminalCookieValue(req, viewPath ? 'view' : 'interact');
  if (!cookie) {
    throw new Refusal(401, 'missing-credential', 'this terminal needs the one-time link you were given (or a new one from POST /api/sessions/{id}/tokens)');
  }
  const grant = await findGrant(deps.db, cookie, sessionId);
  if (!grant) throw new Refusal(401, 'invalid-credential', 'this browser no longer has access to the terminal: open a new terminal link');
  return grant;
}

/** What a client is told when its token cannot be spent. */
function tokenRefusal(refused: TokenRefusal): Refusal {
  switch (refused.reason) {
    case 'unknown-token':
      return new Refusal(401, 'unknown-token', 'the token was not issued for any session');
    case 'wrong-session':
      return new Refusal(403, 'wrong-session', 'the token is for another session');
    case 'token-used':
      return new Refusal(401, 'token-used', 'the token has already been used: ask for a new terminal URL');
    case 'expired-token':
      return new Refusal(401, 'expired-token', 'the token has expired: ask for a new terminal URL');
    case 'session-ended':
      return new Refusal(410, 'session-ended', `the session has ended (${refused.status})`);
  }
}
