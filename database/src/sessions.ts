import type { Knex } from 'knex';
import { notifySessionChange } from './session-changes.js';
import { ACTIVE_SESSION_STATUSES, FINISHED_SESSION_STATUSES, type AccessMode, type SessionRow, type SessionStatus } from './tables.js';

/** The SQL behind sessions and tokens. Status changes only ever move forward: a finished session stays finished. */

export type NewSession = Omit<SessionRow, 'created_at' | 'updated_at' | 'running_at' | 'ended_at' | 'exit_code' | 'failure_reason' | 'runner_name' | 'runner_host' | 'runner_port'>;

export interface NewToken {
  jti: string;
  sessionId: string;
  mode: AccessMode;
  subject: string;
  expiresAt: Date;
}

export async function insertSession(db: Knex | Knex.Transaction, session: NewSession): Promise<SessionRow> {
  const [row] = (await db('sessions').insert({ ...session, env: JSON.stringify(session.env) }).returning('*')) as SessionRow[];
  return row!;
}

export async function insertToken(db: Knex | Knex.Transaction, token: NewToken): Promise<void> {
  await db('session_tokens').insert({
    jti: token.jti,
    session_id: token.sessionId,
    mode: token.mode,
    subject: token.subject,
    expires_at: token.expiresAt,
  });
}

export async function findSession(db: Knex, id: string): Promise<SessionRow | undefined> {
  return db<SessionRow>('sessions').where({ id }).first();
}

/** Serialises session creation per owner for the rest of the transaction, so the active-session cap is exact. */
export async function lockOwner(tx: Knex.Transaction, owner: string): Promise<void> {
  await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`cliscale:sessions:${owner}`]);
}

export async function countActive(db: Knex | Knex.Transaction, owner: string): Promise<number> {
  const row = await db('sessions').where({ owner }).whereIn('status', ACTIVE_SESSION_STATUSES).count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

export interface Page {
  rows: SessionRow[];
  next?: { createdAt: Date; id: string };
}

/** Newest first, keyset-paginated on (created_at, id) so pages stay stable while sessions are created. */
export async function listSessions(
  db: Knex,
  owner: string,
  options: { limit: number; after?: { createdAt: Date; id: string }; status?: SessionStatus },
): Promise<Page> {
  const query = db<SessionRow>('sessions').where({ owner });
  if (options.status) query.andWhere({ status: options.status });
  if (options.after) query.andWhereRaw('(created_at, id) < (?, ?)', [options.after.createdAt, options.after.id]);
  const rows = await query.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(options.limit + 1);
  const more = rows.length > options.limit;
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return { rows: page, next: more && last ? { createdAt: last.created_at, id: last.id } : undefined };
}

export interface StatusChange {
  status: SessionStatus;
  runnerName?: string;
  runnerHost?: string;
  runnerPort?: number;
  exitCode?: number | null;
  failureReason?: string | null;
}

/**
 * Moves a session to `change.status` if it is currently in one of `from`; returns the updated row, or
 * undefined when the session was elsewhere (already further along, or finished). Notifies listeners
 * (SessionChanges: the gateway's terminals and the API's ?wait=ready wait on them) in the same transaction.
 */
export async function transition(db: Knex, id: string, from: readonly SessionStatus[], change: StatusChange): Promise<SessionRow | undefined> {
  const finished = FINISHED_SESSION_STATUSES.includes(change.status);
  return db.transaction(async (tx) => {
    const [row] = (await tx('sessions')
      .where({ id })
      .whereIn('status', from)
      .update({
        status: change.status,
        updated_at: tx.fn.now(),
        ...(change.runnerName !== undefined && { runner_name: change.runnerName }),
        ...(change.runnerHost !== undefined && { runner_host: change.runnerHost }),
        ...(change.runnerPort !== undefined && { runner_port: change.runnerPort }),
        ...(change.status === 'running' && { running_at: tx.fn.now() }),
        ...(finished && { ended_at: tx.fn.now(), exit_code: change.exitCode ?? null, failure_reason: change.failureReason ?? null }),
      })
      .returning('*')) as SessionRow[];
    if (row) await notifySessionChange(tx, { sessionId: id, status: change.status });
    return row;
  });
}

/** Sessions that should have a runner: the reconciler compares them with what the backend has. */
export async function activeSessions(db: Knex, backend: string): Promise<SessionRow[]> {
  return db<SessionRow>('sessions').where({ runner_backend: backend }).whereIn('status', ACTIVE_SESSION_STATUSES);
}

export async function sessionsByIds(db: Knex, ids: string[]): Promise<SessionRow[]> {
  if (ids.length === 0) return [];
  return db<SessionRow>('sessions').whereIn('id', ids);
}
