import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { ACTIVE_SESSION_STATUSES, type AccessMode, type SessionRow, type SessionStatus, type SessionTokenRow, type TerminalGrantRow } from './tables.js';

/** The SQL of terminal access: one-time tokens spent, browser grants (cookies) made and checked. */

export interface Access {
  sessionId: string;
  mode: AccessMode;
  subject: string;
}

/** What a terminal needs to know of its session. */
export type TerminalSession = Pick<
  SessionRow,
  'id' | 'status' | 'runner_host' | 'runner_port' | 'runner_credential' | 'exit_code' | 'failure_reason' | 'expires_at'
>;

/** Why a token could not be spent. */
export type TokenRefusal =
  | { reason: 'unknown-token' }
  | { reason: 'wrong-session' }
  | { reason: 'token-used' }
  | { reason: 'expired-token' }
  | { reason: 'session-ended'; status: SessionStatus | 'gone' };

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Spends a token's jti: one statement, so however many requests (on however many replicas) present the same
 * token at once, exactly one gets the access. Expired tokens and sessions that have ended are refused.
 */
export async function consumeToken(
  db: Knex,
  token: { jti: string; sessionId: string },
  clientIp: string | undefined,
): Promise<{ access: Access } | { refused: TokenRefusal }> {
  const result = await db.raw<{ rows: Array<{ mode: AccessMode; subject: string }> }>(
    `UPDATE session_tokens AS t SET consumed_at = now(), consumed_by_ip = ?
       FROM sessions AS s
      WHERE t.jti = ? AND t.session_id = ? AND s.id = t.session_id
        AND t.consumed_at IS NULL AND t.expires_at > now() AND s.status = ANY(?)
      RETURNING t.mode, t.subject`,
    [clientIp ?? null, token.jti, token.sessionId, [...ACTIVE_SESSION_STATUSES]],
  );
  const row = result.rows[0];
  if (row) return { access: { sessionId: token.sessionId, mode: row.mode, subject: row.subject } };
  return { refused: await explainRefusedToken(db, token) };
}

async function explainRefusedToken(db: Knex, token: { jti: string; sessionId: string }): Promise<TokenRefusal> {
  const row = await db<SessionTokenRow>('session_tokens').where({ jti: token.jti }).first();
  if (!row) return { reason: 'unknown-token' };
  if (row.session_id !== token.sessionId) return { reason: 'wrong-session' };
  if (row.consumed_at) return { reason: 'token-used' };
  if (row.expires_at <= new Date()) return { reason: 'expired-token' };
  const session = await db<SessionRow>('sessions').where({ id: token.sessionId }).first('status');
  return { reason: 'session-ended', status: session?.status ?? 'gone' };
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
  const row = await db<TerminalGrantRow>('terminal_grants')
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
