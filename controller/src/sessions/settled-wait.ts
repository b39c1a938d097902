import type { Knex } from 'knex';
import { FINISHED_SESSION_STATUSES, sessionQueries as store, type SessionChanges, type SessionRow, type SessionStatus, type SessionWatch } from '@cliscale/database';
import { SessionNotFound } from './session-errors.js';

/** What waiting needs of SessionChanges (the LISTEN connection every status transition NOTIFYs). */
export type SessionChangeFeed = Pick<SessionChanges, 'listening' | 'watch'>;

/** While notifications arrive, a session is read again only this rarely: a safety net, not the mechanism. */
export const POLL_WHILE_LISTENING_MS = 15_000;
/** While the LISTEN connection is down (notifications are lost), waiters fall back to polling this often. */
export const POLL_WITHOUT_NOTIFICATIONS_MS = 2_000;

const isSettled = (status: SessionStatus) => status === 'running' || FINISHED_SESSION_STATUSES.includes(status);

/**
 * `?wait=ready`: waits until a session is running or finished. Woken by the session's change notification
 * (from whichever replica or runner event made it), with a slow poll for when notifications are down.
 */
export class SettledWaits {
  private readonly watches = new Set<SessionWatch>();
  private ended = false;

  constructor(
    private readonly db: Knex,
    private readonly changes: SessionChangeFeed,
  ) {}

  /** Resolves with the row once the session is running or finished, or as it is when `timeoutMs` runs out. */
  async until(id: string, timeoutMs: number): Promise<SessionRow> {
    const deadline = Date.now() + timeoutMs;
    // Watching starts before the first read, so a change between the read and the wait is not missed.
    const watch = this.changes.watch(id);
    this.watches.add(watch);
    try {
      for (;;) {
        const row = await store.findSession(this.db, id);
        if (!row) throw new SessionNotFound(id);
        const left = deadline - Date.now();
        if (isSettled(row.status) || left <= 0 || this.ended) return row;
        await watch.changeOr(Math.min(left, this.changes.listening ? POLL_WHILE_LISTENING_MS : POLL_WITHOUT_NOTIFICATIONS_MS));
      }
    } finally {
      watch.close();
      this.watches.delete(watch);
    }
  }

  /** Shutting down: every wait answers now with the session as it is, and new ones do not wait. */
  endAll(): void {
    this.ended = true;
    for (const watch of this.watches) watch.close();
  }
}
