import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { refuseUpgrade as refuseWithReply } from '@cliscale/service-kit';

/** Why the gateway turned a request away: one code per reason, for clients, metrics and the audit log. */
export type RefusalReason =
  | 'not-found'
  | 'bad-request'
  | 'missing-credential'
  | 'invalid-token'
  | 'expired-token'
  | 'token-not-yet-valid'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'wrong-session'
  | 'unknown-token'
  | 'token-used'
  | 'session-ended'
  | 'unknown-session'
  | 'invalid-credential'
  | 'forbidden-origin'
  | 'too-many-connections'
  | 'keys-unavailable'
  | 'database-unavailable'
  | 'shutting-down';

export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly status: number,
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** Refuses a WebSocket upgrade before the handshake: an HTTP status and a JSON reason, then the socket is closed. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  refuseWithReply(socket, refusal.status, { error: refusal.message, reason: refusal.reason });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A plain HTML error page for the terminal route. Its text comes from the refusal (fixed messages written
 * by the gateway), never from the request.
 */
export function sendErrorPage(res: ServerResponse, refusal: Refusal): void {
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cliscale: terminal unavailable</title></head>' +
    `<body style="font-family: system-ui, sans-serif; margin: 3em"><h1>Terminal unavailable</h1><p>${escapeHtml(refusal.message)}</p>` +
    `<p><small>${escapeHtml(refusal.reason)}</small></p></body></html>`;
  res.writeHead(refusal.status, {
    'content-type': 'text/html;charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

/** Text that only makes sense inside the service: addresses, errno codes, driver and stack-trace lines. */
const INTERNALS = [
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/, // IPv4, with or without a port
  /\[[0-9a-f:.]+\](?::\d+)?/i, // [IPv6]:port
  /\b(?:E[A-Z]{3,}|ERR_[A-Z_]+)\b/, // ECONNREFUSED, ETIMEDOUT, ERR_…
  /\bknex\b|\.transacting\(|binding\(s\)|\bat .+:\d+:\d+/i,
];

/**
 * A stored failure reason as a user may see it: the runner's own account ("the command exited with code
 * 5") unchanged, but anything carrying internals (an address, a driver's message) replaced by a plain
 * sentence; the details stay in the services' logs.
 */
export function plainReason(text: string): string {
  return INTERNALS.some((pattern) => pattern.test(text)) ? 'the service could not run it (details are in its logs)' : text;
}
