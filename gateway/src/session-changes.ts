import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import { SESSION_CHANGES_CHANNEL } from '@cliscale/database';

/** Waits for the next change of one session; made before reading the session, so no change falls in between. */
export interface SessionWatch {
  /** Resolves at the first change since the watch was made (or since the last wait), or after `ms`. */
  changeOr(ms: number): Promise<void>;
  /** Stops watching; a wait in progress ends at once. */
  close(): void;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** How the LISTEN connection shows in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = 'cliscale-gateway-listen';

/**
 * Wakes terminals that wait for their session's runner the moment the controller records a change: it
 * NOTIFYs SESSION_CHANGES_CHANNEL in the same transaction, and this holds one LISTEN connection per gateway
 * (outside the pool, which it would otherwise hold forever). A notification sent while that connection is
 * down is lost, so waiters keep a slow poll as well, and every waiter is woken when it comes back.
 */
export class SessionChanges {
  private client?: pg.Client;
  private readonly waiters = new Map<string, Set<() => void>>();
  private retryMs = RETRY_MIN_MS;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  private up = false;

  constructor(
    private readonly connection: Knex.PgConnectionConfig,
    private readonly log: Logger,
    private readonly onListening: (up: boolean) => void = () => {},
  ) {}

  /** The LISTEN connection uses the pool's own connection settings. */
  static forDatabase(db: Knex, log: Logger, onListening?: (up: boolean) => void): SessionChanges {
    return new SessionChanges(db.client.config.connection as Knex.PgConnectionConfig, log, onListening);
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
          if (changed) {
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
      application_name: LISTEN_APPLICATION_NAME,
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
      client.end().catch(() => {});
      if (this.closed) return;
      this.log.warn({ err: err?.message, retryInMs: this.retryMs }, 'session change notifications lost; polling until they are back');
      this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel !== SESSION_CHANGES_CHANNEL || !msg.payload) return;
      this.wake(msg.payload.slice(0, msg.payload.lastIndexOf(':')));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SESSION_CHANGES_CHANNEL}`);
    } catch (err) {
      return onLost(err as Error);
    }
    if (lost || this.closed) return;
    this.setListening(true);
    this.retryMs = RETRY_MIN_MS;
    // Changes made while nobody listened were missed: every waiter reads its session again.
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  private wake(sessionId: string): void {
    for (const onChange of [...(this.waiters.get(sessionId) ?? [])]) onChange();
  }
}
