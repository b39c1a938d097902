import type { Request } from 'express';
import { HttpError } from './http-error.js';

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The base URL users reach the product at: PUBLIC_URL when configured, else the request's own scheme and
 * host (express applies X-Forwarded-Proto/-Host only when TRUST_PROXY says the proxy is trusted).
 */
export function publicBase(req: Request, configured: string | undefined): string {
  if (configured) return configured;
  const host = req.host;
  if (!host || !HOST.test(host)) throw new HttpError(400, 'the Host header is missing or malformed; set PUBLIC_URL on the server');
  return `${req.protocol}://${host}`;
}

/** The browser URL (the gateway trades the one-time token for a cookie and drops it from the address bar). */
export function terminalUrl(base: string, sessionId: string, token: string): string {
  return `${base}/ws/${sessionId}?token=${encodeURIComponent(token)}`;
}

/** The WebSocket URL for programmatic ttyd clients. */
export function webSocketUrl(base: string, sessionId: string): string {
  return `${base.replace(/^http/, 'ws')}/ws/${sessionId}`;
}
