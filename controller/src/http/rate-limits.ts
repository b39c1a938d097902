import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { HttpError } from './http-error.js';

export interface RateLimitSettings {
  sessions: number;
  sessionWindowSeconds: number;
  authFailures: number;
  authFailureWindowSeconds: number;
}

/**
 * Counters kept in PostgreSQL (table rate_limits), so every controller replica enforces the same limit.
 * Session creations are counted per client IP only after the caller authenticated; failed
 * authentications have a counter of their own, so strangers cannot use up a real client's quota.
 */
export class RateLimits {
  private readonly sessions: RateLimiterPostgres;
  private readonly authFailures: RateLimiterPostgres;

  constructor(db: Knex, private readonly settings: RateLimitSettings) {
    const common = { storeClient: db, storeType: 'knex', tableName: 'rate_limits', tableCreated: true, clearExpiredByTimeout: false };
    this.sessions = new RateLimiterPostgres({ ...common, keyPrefix: 'sessions', points: settings.sessions, duration: settings.sessionWindowSeconds });
    this.authFailures = new RateLimiterPostgres({
      ...common,
      keyPrefix: 'auth-failures',
      points: settings.authFailures,
      duration: settings.authFailureWindowSeconds,
    });
  }

  /** 429 when this IP has failed to authenticate too often recently. */
  async refuseIfAuthBlocked(ip: string): Promise<void> {
    const res = await this.guard(() => this.authFailures.get(ip));
    if (res && res.consumedPoints >= this.settings.authFailures) {
      throw tooMany(res, 'too many failed authentications from this address; try again later');
    }
  }

  async recordAuthFailure(ip: string): Promise<void> {
    await this.consume(this.authFailures, ip, 'too many failed authentications from this address; try again later');
  }

  async consumeSessionCreation(ip: string): Promise<void> {
    await this.consume(
      this.sessions,
      ip,
      `at most ${this.settings.sessions} sessions per ${this.settings.sessionWindowSeconds} s may be created from one address`,
    );
  }

  private async consume(limiter: RateLimiterPostgres, key: string, message: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(err, message);
      throw unavailable(err);
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }
}

function tooMany(res: RateLimiterRes, message: string): HttpError {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new HttpError(429, message, { retryAfterSeconds: retryAfter }, { 'retry-after': String(retryAfter) });
}

function unavailable(err: unknown): HttpError {
  return new HttpError(503, `rate limiter unavailable: ${(err as Error).message}`, {}, { 'retry-after': '5' });
}
