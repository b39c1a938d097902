import type { Knex } from 'knex';
import { FINISHED_SESSION_STATUSES } from './tables.js';

export interface PruneSettings {
  sessionDays: number;
  auditDays: number;
}

/**
 * Deletes what nobody can use any more: tokens an hour past expiry (a replayed token is still recognised
 * meanwhile), expired rate-limit counters and terminal grants, finished sessions and audit entries past their retention.
 */
export async function prune(db: Knex, settings: PruneSettings): Promise<Record<string, number>> {
  const day = 24 * 3600 * 1000;
  const tokens = await db('session_tokens').where('expires_at', '<', new Date(Date.now() - 3600_000)).delete();
  const rateLimits = await db('rate_limits').where('expire', '<', Date.now()).delete();
  const grants = await db('terminal_grants').where('expires_at', '<', new Date()).delete();
  const sessions = await db('sessions')
    .whereIn('status', FINISHED_SESSION_STATUSES)
    .andWhere('ended_at', '<', new Date(Date.now() - settings.sessionDays * day))
    .delete();
  const audit = await db('audit_log').where('at', '<', new Date(Date.now() - settings.auditDays * day)).delete();
  return { tokens, rateLimits, grants, sessions, audit };
}
