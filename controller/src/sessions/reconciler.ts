import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { FINISHED_SESSION_STATUSES, sessionQueries } from '@cliscale/database';
import { FINISHED_RUNNER_STATES, type RunnerBackend } from '../runners/runner-backend.js';
import type { SessionService } from './session-service.js';

export interface ReconcileReport {
  /** Runners stopped because their session is finished or unknown. */
  stopped: string[];
  /** Sessions updated from a runner state the watch had missed. */
  updated: string[];
  /** Sessions failed because their runner is gone. */
  lost: string[];
  /** Sessions past their expiry whose runner was still there. */
  expired: string[];
}

/**
 * Makes rows and runners agree, at start-up and on an interval (every replica may run it: each step is
 * idempotent). A row is written before its runner is created, so a session without a runner is only
 * judged lost after `graceMs`: its creation may still be under way.
 */
export async function reconcile(
  o: { db: Knex; backend: RunnerBackend; sessions: SessionService; logger: Logger },
  graceMs = 60_000,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { stopped: [], updated: [], lost: [], expired: [] };
  const runners = await o.backend.list();
  const rows = new Map((await sessionQueries.sessionsByIds(o.db, runners.map((r) => r.sessionId))).map((r) => [r.id, r]));
  const now = Date.now();

  for (const runner of runners) {
    const row = rows.get(runner.sessionId);
    const runnerLive = !FINISHED_RUNNER_STATES.has(runner.state);
    if (!row || FINISHED_SESSION_STATUSES.includes(row.status)) {
      if (runnerLive || !row) {
        await o.backend.cancel(runner.sessionId);
        report.stopped.push(runner.sessionId);
      }
      continue;
    }
    if (row.expires_at.getTime() < now && runnerLive) {
      await o.backend.cancel(runner.sessionId);
      await o.sessions.applyRunnerEvent({ sessionId: row.id, state: 'expired', reason: 'deadline exceeded' });
      report.expired.push(row.id);
      continue;
    }
    const before = row.status;
    await o.sessions.applyRunnerEvent(runner);
    if (runner.state !== before && !(runner.state === 'starting' && before !== 'pending')) report.updated.push(row.id);
  }

  const withRunner = new Set(runners.map((r) => r.sessionId));
  for (const row of await sessionQueries.activeSessions(o.db, o.backend.kind)) {
    if (withRunner.has(row.id) || now - row.updated_at.getTime() < graceMs) continue;
    const reason = row.status === 'pending' ? 'the runner was never created' : 'the runner disappeared before its result was recorded';
    await o.sessions.applyRunnerEvent({ sessionId: row.id, state: 'failed', reason });
    report.lost.push(row.id);
  }
  const changed = report.stopped.length + report.updated.length + report.lost.length + report.expired.length;
  if (changed > 0) o.logger.info(report, 'reconciled sessions with runners');
  return report;
}
