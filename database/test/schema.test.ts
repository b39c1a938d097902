import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { migrateToLatest, pendingMigrations, recordAudit } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';

const MIGRATE_BIN = fileURLToPath(new URL('../dist/migrate.js', import.meta.url));

function runMigrate(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MIGRATE_BIN], { env: { PATH: process.env.PATH, ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('schema', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(() => t.drop());

  it('`npm run migrate` applies the schema to DATABASE_URL once, without printing the password', async () => {
    const first = await runMigrate({ DATABASE_URL: t.url });
    expect(first.code).toBe(0);
    expect(first.output).toContain('applied 001-initial, 002-terminal-grants');
    const password = new URL(t.url).password;
    expect(first.output).not.toContain(password);
    const second = await runMigrate({ DATABASE_URL: t.url });
    expect(second.output).toContain('already up to date');
    expect(await pendingMigrations(t.db)).toEqual([]);
    expect(await migrateToLatest(t.db)).toEqual([]);
  });

  it('fails with a clear message when the database is unreachable', async () => {
    const result = await runMigrate({ DATABASE_URL: 'postgres://u:secret-pw@127.0.0.1:1/x' });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/migrate: failed: .*ECONNREFUSED/);
    expect(result.output).not.toContain('secret-pw');
  });

  it('refuses to run without a database, or with a malformed URL, naming what is wrong', async () => {
    const none = await runMigrate({});
    expect(none.code).toBe(2);
    expect(none.output).toContain('migrate: no database: set DATABASE_URL or pass --database-url');
    const bad = await runMigrate({ DATABASE_URL: 'mysql://u:secret-pw@127.0.0.1/x' });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('DATABASE_URL: must be a postgres:// URL');
    expect(bad.output).not.toContain('secret-pw');
  });

  it('refuses an unknown session status and cascades tokens with their session', async () => {
    const session = {
      id: '00000000-0000-4000-8000-000000000001',
      owner: 'k',
      status: 'pending',
      code_url: 'https://github.com/o/r',
      command: 'true',
      runner_backend: 'local',
      runner_credential: 'c',
      expires_at: new Date(Date.now() + 60_000),
    };
    await expect(t.db('sessions').insert({ ...session, id: '00000000-0000-4000-8000-000000000002', status: 'bogus' })).rejects.toThrow(
      /sessions_status_check/,
    );
    await t.db('sessions').insert(session);
    await t.db('session_tokens').insert({ jti: 'j1', session_id: session.id, mode: 'view', subject: 'k', expires_at: new Date() });
    await expect(
      t.db('session_tokens').insert({ jti: 'j2', session_id: '00000000-0000-4000-8000-00000000ffff', mode: 'view', subject: 'k', expires_at: new Date() }),
    ).rejects.toThrow(/foreign key/);
    await recordAudit(t.db, { event: 'session.created', sessionId: session.id, actor: 'k', userAgent: 'x'.repeat(2000) });
    await t.db('sessions').where({ id: session.id }).delete();
    expect(await t.db('session_tokens').count({ n: '*' }).first()).toEqual({ n: '0' });
    const audit = await t.db('audit_log').where({ session_id: session.id }).first();
    expect(audit.event).toBe('session.created');
    expect(audit.user_agent).toHaveLength(512);
  });

  it('has an index for every lookup the services make', async () => {
    const rows = await t.db.raw(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`);
    const names = rows.rows.map((r: { indexname: string }) => r.indexname);
    expect(names).toEqual(
      expect.arrayContaining([
        'sessions_owner_created_idx',
        'sessions_status_updated_idx',
        'session_tokens_session_idx',
        'session_tokens_expires_idx',
        'audit_log_session_idx',
        'rate_limits_expire_idx',
      ]),
    );
  });
});
