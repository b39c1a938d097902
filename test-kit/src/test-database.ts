import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { migrateToLatest, openDatabase } from '@cliscale/database';

export interface TestDatabase {
  /** postgres://… of a fresh, migrated database of its own. */
  url: string;
  db: Knex;
  /**
   * Writes a sessions row directly (for what the API cannot produce: old rows, any status) and returns its
   * id. Defaults: alice's running local session expiring in an hour; `fields` override any column.
   */
  insertSession(fields?: Record<string, unknown>): Promise<string>;
  /** Closes the pool and drops the database (connections of other pools included). */
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.CLISCALE_TEST_PG_URL;
  if (!url) throw new Error('CLISCALE_TEST_PG_URL is not set: run the tests through jest (its global setup starts PostgreSQL)');
  return url;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new database on the test run's PostgreSQL, migrated to the latest schema unless `migrate: false`. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = adminUrl().replace(/\/postgres$/, `/${name}`);
  const db = openDatabase({ url, maxConnections: 20 });
  if (options.migrate !== false) await migrateToLatest(db);
  return {
    url,
    db,
    insertSession: async (fields = {}) => {
      const row = {
        id: randomUUID(),
        owner: 'alice',
        status: 'running',
        code_url: 'https://code.example/r',
        command: 'true',
        runner_backend: 'local',
        runner_credential: 'c',
        expires_at: new Date(Date.now() + 3600_000),
        ...fields,
      };
      await db('sessions').insert(row);
      return row.id;
    },
    drop: async () => {
      await db.destroy();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
