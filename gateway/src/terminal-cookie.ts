import type { IncomingMessage } from 'node:http';
import cookie from 'cookie';

const NAME = 'cliscale_terminal';

/**
 * The browser's credential for one session's terminal: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page sends it), limited to /ws/{sessionId}, and gone when the session expires.
 */
export function terminalCookie(sessionId: string, value: string, expiresAt: Date, secure: boolean): string {
  return cookie.serialize(NAME, value, {
    path: `/ws/${sessionId}`,
    httpOnly: true,
    sameSite: 'strict',
    secure,
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000)),
  });
}

export function terminalCookieValue(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const value = cookie.parse(header)[NAME];
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}
