import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { prune } from '@cliscale/database';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { startTestController, type TestController } from './helpers/controller-harness.js';

let t: TestDatabase;
let c: TestController;

beforeAll(async () => {
  t = await createTestDatabase();
  c = await startTestController({ databaseUrl: t.url });
});
afterAll(async () => {
  await c?.close();
  await t?.drop();
});

const ago = (ms: number) => new Date(Date.now() - ms);
const DAY = 24 * 3600_000;

const session = (fields: Record<string, unknown>) => t.insertSession(fields);

describe('reconciler', () => {
  it('fails sessions whose runner is gone, after a grace period, and leaves recent ones alone', async () => {
    const lost = await session({ status: 'running', updated_at: ago(120_000) });
    const neverStarted = await session({ status: 'pending', updated_at: ago(120_000) });
    const recent = await session({ status: 'pending' });
    const report = await c.controller.reconcile();
    expect(report.lost.sort()).toEqual([lost, neverStarted].sort());
    const rows = await t.db('sessions').whereIn('id', [lost, neverStarted, recent]).select('id', 'status', 'failure_reason');
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[lost]).toMatchObject({ status: 'failed', failure_reason: 'the runner disappeared before its result was recorded' });
    expect(byId[neverStarted]).toMatchObject({ status: 'failed', failure_reason: 'the runner was never created' });
    expect(byId[recent]).toMatchObject({ status: 'pending' });
    const audit = await t.db('audit_log').where({ session_id: lost, event: 'session.ended' }).first();
    expect(audit.detail).toMatchObject({ status: 'failed' });
  });
});

describe('pruner', () => {
  it('deletes expired tokens and counters and finished sessions past retention, and keeps everything else', async () => {
    const old = await session({ status: 'succeeded', ended_at: ago(31 * DAY) });
    const young = await session({ status: 'succeeded', ended_at: ago(DAY) });
    const live = await session({ status: 'running', created_at: ago(40 * DAY) });
    await t.db('session_tokens').insert([
      { jti: 'stale', session_id: young, mode: 'view', subject: 'alice', expires_at: ago(2 * 3600_000) },
      { jti: 'recently-expired', session_id: young, mode: 'view', subject: 'alice', expires_at: ago(60_000) },
      { jti: 'valid', session_id: live, mode: 'view', subject: 'alice', expires_at: new Date(Date.now() + 60_000) },
    ]);
    await t.db('rate_limits').insert([
      { key: 'sessions:old', points: 1, expire: Date.now() - 1000 },
      { key: 'sessions:new', points: 1, expire: Date.now() + 60_000 },
    ]);
    await t.db('audit_log').insert([
      { event: 'session.created', at: ago(91 * DAY) },
      { event: 'session.created', at: ago(DAY), session_id: young },
    ]);
    const counts = await prune(t.db, { sessionDays: 30, auditDays: 90 });
    expect(counts).toEqual({ tokens: 1, rateLimits: 1, grants: 0, sessions: 1, audit: 1 });
    expect(await t.db('sessions').whereIn('id', [old, young, live]).pluck('id')).toEqual(expect.arrayContaining([young, live]));
    expect(await t.db('session_tokens').orderBy('jti').pluck('jti')).toEqual(['recently-expired', 'valid']);
    expect(await t.db('rate_limits').pluck('key')).toEqual(['sessions:new']);
  });
});
