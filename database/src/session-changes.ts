import type { Knex } from 'knex';
import pg from 'pg';
import { Backoff } from '@cliscale/service-kit';
import { SESSION_STATUSES, type SessionStatus } from './tables.js';

/** Every status change is NOTIFYed on this channel, in the transaction that makes it. */
export const SESSION_CHANGES_CHANNEL = 'cliscale_sessions';

export interface SessionChange {
  sessionId: string;
  status: SessionStatus;
}

/** The NOTIFY payload: `<session id>:<status>`. */
export function encodeSessionChange(change: SessionChange): string {
  return `${change.sessionId}:${change.status}`;
}

/** The change in a payload, or undefined for one this version does not understand. */
export function parseSessionChange(payload: string): SessionChange | undefined {
  const colon = payload.lastIndexOf(':');
  if (colon < 1) return undefined;
  const status = payload.slice(colon + 1) as SessionStatus;
  return SESSION_STATUSES.includes(status) ? { sessionId: payload.slice(0, colon), status } : undefined;
}

/** Tells every listener (any process, any replica) about `change` once the transaction commits. */
export async function notifySessionChange(tx: Knex | Knex.Transaction, change: SessionChange): Promise<void> {
  await tx.raw('SELECT pg_notify(?, ?)', [SESSION_CHANGES_CHANNEL, encodeSessionChange(change)]);
}

/** Where SessionChanges reports its connection trouble (a pino logger fits). */
export interface ChangeLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Waits for the next change of one session; made before reading the session, so no change falls in between. */
export interface SessionWatch {
  /**
   * Resolves at the first change since the watch was made (or since the last wait), when the notifications'
   * connection goes down or comes back (read the session again), or after `ms`; at once once closed.
   */
  changeOr(ms: number): Promise<void>;
  /** Stops watching; a wait in progress ends at once, and so does every later one. */
  close(): void;
}

/**
 * Wakes whoever waits for a session (a gateway's terminal for its runner, an API call's ?wait=ready) the
 * moment a change is recorded: transition() NOTIFYs SESSION_CHANGES_CHANNEL in the same transaction, and this
 * holds one LISTEN connection per process (outside the pool, which it would otherwise hold forever). A
 * notification sent while that connection is down is lost, so waiters keep a slow poll as well, and every
 * waiter is woken when it comes back.
 */
export class SessionChanges {
  private client?: pg.Client;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly reconnect = new Backoff({ initialMs: 500, maxMs: 30_000 });
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  private up = false;

  constructor(
    private readonly connection: Knex.PgConnectionConfig,
    private readonly log: ChangeLog,
    /** How the LISTEN connection shows in pg_stat_activity. */
    private readonly applicationName: string,
    private readonly onListening: (up: boolean) => void = () => {},
  ) {}

  /** The LISTEN connection uses the pool's own connection settings. */
  static forDatabase(db: Knex, options: { log: ChangeLog; applicationName: string; onListening?: (up: boolean) => void }): SessionChanges {
    const { connection } = (db.client as { config: Knex.Config }).config;
    return new SessionChanges(connection as Knex.PgConnectionConfig, options.log, options.applicationName, options.onListening);
  }

  /** True while the LISTEN connection is up: waiters may then poll slowly. */
  get listening(): boolean {
    return this.up;
  }

  private setListening(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.onListening(up);
  }

  /** Resolves once the first attempt to listen is over; a failure only means polling until a retry works. */
  async start(): Promise<void> {
    await this.connect();
  }

  watch(sessionId: string): SessionWatch {
    let changed = false;
    let closed = false;
    let wake: (() => void) | undefined;
    const onChange = () => {
      changed = true;
      wake?.();
    };
    const set = this.waiters.get(sessionId) ?? new Set();
    set.add(onChange);
    this.waiters.set(sessionId, set);
    return {
      changeOr: (ms) =>
        new Promise<void>((resolve) => {
          if (changed || closed) {
            changed = false;
            return resolve();
          }
          const timer = setTimeout(() => wake?.(), ms);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            changed = false;
            resolve();
          };
        }),
      close: () => {
        closed = true;
        set.delete(onChange);
        if (set.size === 0 && this.waiters.get(sessionId) === set) this.waiters.delete(sessionId);
        wake?.();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.setListening(false);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      ...this.connection,
      application_name: this.applicationName,
      // A connection that only listens sends nothing: keepalives notice a peer that vanished without a reset.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    } as pg.ClientConfig);
    this.client = client;
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      this.setListening(false);
      // Waiters in a long wait (they counted on notifications) go back to polling now.
      this.wakeAll();
      client.end().catch(() => {});
      if (this.closed) return;
      const retryInMs = this.reconnect.next();
      this.log.warn({ err: err?.message, retryInMs }, 'session change notifications lost; polling until they are back');
      this.retryTimer = setTimeout(() => void this.connect(), retryInMs);
      this.retryTimer.unref();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      const change = msg.channel === SESSION_CHANGES_CHANNEL && msg.payload ? parseSessionChange(msg.payload) : undefined;
      if (change) this.wake(change.sessionId);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SESSION_CHANGES_CHANNEL}`);
    } catch (err) {
      return onLost(err as Error);
    }
    if (lost || this.closed) return;
    this.setListening(true);
    this.reconnect.reset();
    // Changes made while nobody listened were missed: every waiter reads its session again.
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  private wake(sessionId: string): void {
    for (const onChange of [...(this.waiters.get(sessionId) ?? [])]) onChange();
  }
}
