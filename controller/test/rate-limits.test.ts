import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { BOB, startTestController, type TestController } from './helpers/controller-harness.js';

/** Two controller replicas sharing one database: the limits are the database's, not each process's. */
let t: TestDatabase;
let one: TestController;
let two: TestController;
let code: string;

beforeAll(async () => {
  t = await createTestDatabase();
  code = await codeFolder();
  const env = { ALLOW_LOCAL_CODE: 'true', SESSION_RATE_LIMIT: '5', AUTH_FAILURE_LIMIT: '4', AUTH_FAILURE_WINDOW_SECONDS: '60' };
  [one, two] = await Promise.all([startTestController({ databaseUrl: t.url, env }), startTestController({ databaseUrl: t.url, env })]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
  await t?.drop();
  await rm(code, { recursive: true, force: true });
});

const body = () => ({ code_url: code, command: 'true', install_cmd: '' });

describe('rate limits', () => {
  it('allows 5 session creations per minute per client across both replicas, then 429 with Retry-After', async () => {
    // Requests that fail authentication or validation do not count.
    expect((await one.api('/api/sessions', { method: 'POST', json: body(), key: null })).status).toBe(401);
    expect((await two.api('/api/sessions', { method: 'POST', json: { code_url: 'nope' } })).status).toBe(400);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const replica = i % 2 === 0 ? one : two;
      statuses.push((await replica.api('/api/sessions', { method: 'POST', json: body(), key: i === 4 ? BOB.key : undefined })).status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    const limited = await two.api('/api/sessions', { method: 'POST', json: body() });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({ error: 'at most 5 sessions per 60 s may be created from one address', retryAfterSeconds: retryAfter });
    expect(await t.db('sessions').count({ n: '*' }).first()).toEqual({ n: '5' });
    // Reading is not creating.
    expect((await one.api('/api/sessions')).status).toBe(200);
  });

  it('blocks an address after repeated failed authentications, on every replica, without touching valid callers elsewhere', async () => {
    const wrong = { key: 'wrong-key-0123456789abcdef' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await (i % 2 ? one : two).api('/api/sessions', wrong)).status);
    // The first test's request without a key was failure number 1 of the 4 allowed.
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const blocked = await one.api('/api/sessions');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: string }).error).toMatch(/too many failed authentications/);
    const rows = await t.db('rate_limits').select('key', 'points');
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'auth-failures:127.0.0.1' })]));
    expect(JSON.stringify(rows)).not.toContain('wrong-key');
  });
});
