import knex, { type Knex } from 'knex';

export interface DatabaseOptions {
  /** postgres://user:password@host:port/database[?sslmode=...] */
  url: string;
  /** Most connections one process opens. */
  maxConnections?: number;
  /** How long a query may wait for a free connection before it fails (ms). */
  acquireTimeoutMs?: number;
  /** Any single statement is cancelled by the server after this long (ms). */
  statementTimeoutMs?: number;
  /** Where knex's own warnings go (connection errors); by default they are dropped rather than printed. */
  log?: (level: 'warn' | 'error' | 'debug', message: string) => void;
}

/**
 * A knex pool for PostgreSQL. Statements are bounded by the server-side statement_timeout, so a stuck
 * query cannot hold a request forever; the pool's own acquire timeout bounds waiting for a connection.
 */
export function openDatabase(options: DatabaseOptions): Knex {
  const statementTimeout = options.statementTimeoutMs ?? 15_000;
  const log = options.log ?? (() => {});
  return knex({
    client: 'pg',
    connection: {
      connectionString: options.url,
      statement_timeout: statementTimeout,
      connectionTimeoutMillis: 10_000,
      application_name: 'cliscale',
    } as Knex.PgConnectionConfig,
    pool: { min: 0, max: options.maxConnections ?? 10 },
    acquireConnectionTimeout: options.acquireTimeoutMs ?? 10_000,
    // knex prints these with console.log otherwise; the services log JSON lines.
    log: {
      warn: (m: unknown) => log('warn', String(m)),
      error: (m: unknown) => log('error', String(m)),
      debug: (m: unknown) => log('debug', String(m)),
      deprecate: (m: unknown) => log('warn', String(m)),
    },
  });
}

/** The database URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

/**
 * Whether the database answers `SELECT 1` within `timeoutMs`: what both services' /readyz report. A probe
 * must get its answer within its own timeout, even when the database hangs.
 */
export async function databaseAnswers(db: Knex, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('SELECT 1'),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('database check timed out')), timeoutMs))),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
