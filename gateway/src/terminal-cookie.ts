import type { IncomingMessage } from 'node:http';
import cookie from 'cookie';
import type { AccessMode } from '@cliscale/database';

/**
 * An interactive terminal lives at /ws/{id}, a read-only one at /ws/{id}/view, each with its own cookie: a
 * view link opened in the same browser must not replace the interactive page's credential (its next
 * reconnect would have become read-only).
 */
const COOKIES: Record<AccessMode, { name: string; path: (sessionId: string) => string }> = {
  interact: { name: 'cliscale_terminal', path: (id) => `/ws/${id}` },
  view: { name: 'cliscale_view', path: (id) => `/ws/${id}/view` },
};

/** Where the terminal page of a session is, for a mode. */
export function terminalPagePath(sessionId: string, mode: AccessMode): string {
  return COOKIES[mode].path(sessionId);
}

/**
 * The browser's credential for one session's terminal: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page sends it), limited to the page's path, and gone when the session expires.
 */
export function terminalCookie(sessionId: string, mode: AccessMode, value: string, expiresAt: Date, secure: boolean): string {
  return cookie.serialize(COOKIES[mode].name, value, {
    path: COOKIES[mode].path(sessionId),
    httpOnly: true,
    sameSite: 'strict',
    secure,
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000)),
  });
}

/** The cookie for `mode` (at /ws/{id}/view the browser also sends the interactive one; it is not used there). */
export function terminalCookieValue(req: IncomingMessage, mode: AccessMode): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const value = cookie.parse(header)[COOKIES[mode].name];
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}
