import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { ACTIVE_SESSION_STATUSES, type SessionRow } from '@cliscale/database';
import { Refusal } from './refusals.js';
import type { TokenClaims } from './token-verifier.js';

export type TerminalMode = 'interact' | 'view';

export interface Access {
  sessionId: string;
  mode: TerminalMode;
  subject: string;
}

export type TerminalSession = Pick<
  SessionRow,
  'id' | 'status' | 'runner_host' | 'runner_port' | 'runner_credential' | 'exit_code' | 'failure_reason' | 'expires_at'
>;

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Uses a token's jti: one statement, so however many requests (on however many replicas) present the same
 * token at once, exactly one gets a row back. Expired tokens and sessions that have ended are refused.
 */
export async function consumeToken(db: Knex, claims: TokenClaims, clientIp: string | undefined): Promise<Access> {
  const result = await db.raw<{ rows: Array<{ mode: TerminalMode; subject: string }> }>(
    `UPDATE session_tokens AS t SET consumed_at = now(), consumed_by_ip = ?
       FROM sessions AS s
      WHERE t.jti = ? AND t.session_id = ? AND s.id = t.session_id
        AND t.consumed_at IS NULL AND t.expires_at > now() AND s.status = ANY(?)
      RETURNING t.mode, t.subject`,
    [clientIp ?? null, claims.jti, claims.sessionId, [...ACTIVE_SESSION_STATUSES]],
  );
  const row = result.rows[0];
  if (row) return { sessionId: claims.sessionId, mode: row.mode, subject: row.subject };
  throw await explainRefusedToken(db, claims);
}

async function explainRefusedToken(db: Knex, claims: TokenClaims): Promise<Refusal> {
  const token = await db('session_tokens').where({ jti: claims.jti }).first();
  if (!token) return new Refusal(401, 'unknown-token', 'the token was not issued for any session');
  if (token.session_id !== claims.sessionId) return new Refusal(403, 'wrong-session', 'the token is for another session');
  if (token.consumed_at) return new Refusal(401, 'token-used', 'the token has already been used: ask for a new terminal URL');
  if (token.expires_at <= new Date()) return new Refusal(401, 'expired-token', 'the token has expired: ask for a new terminal URL');
  const session = await db('sessions').where({ id: claims.sessionId }).first('status');
  return new Refusal(410, 'session-ended', `the session has ended (${session?.status ?? 'gone'})`);
}

/** A browser's credential for one session's terminal (the cookie), valid until the session's expiry. */
export async function createGrant(db: Knex, access: Access, expiresAt: Date): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  await db('terminal_grants').insert({
    digest: digest(value),
    session_id: access.sessionId,
    mode: access.mode,
    subject: access.subject,
    expires_at: expiresAt,
  });
  return value;
}

export async function findGrant(db: Knex, value: string, sessionId: string): Promise<Access | undefined> {
  const row = await db('terminal_grants')
    .where({ digest: digest(value), session_id: sessionId })
    .andWhere('expires_at', '>', new Date())
    .first('mode', 'subject');
  return row ? { sessionId, mode: row.mode, subject: row.subject } : undefined;
}

export async function findTerminalSession(db: Knex, id: string): Promise<TerminalSession | undefined> {
  return db('sessions')
    .where({ id })
    .first('id', 'status', 'runner_host', 'runner_port', 'runner_credential', 'exit_code', 'failure_reason', 'expires_at');
}

