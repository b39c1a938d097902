import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { defaultKubernetesRunnerConfig } from '../src/runners/kubernetes/kubernetes-config.js';
import { createKubernetesRunner } from '../src/runners/kubernetes/kubernetes-runner.js';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { ALICE, BOB, CODE_HOST, startTestController, type TestController } from './helpers/controller-harness.js';
import { FakeCluster } from './helpers/fake-kubernetes/fake-cluster.js';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('concurrent session creation', () => {
  it('100 simultaneous creations by three keys on two replicas: 100 sessions, 100 tokens, 100 Jobs, nothing lost or doubled', async () => {
    // The image cannot be pulled, so no pod runs: this is about the API, the database and the Job calls.
    const cluster = await FakeCluster.start({ imagePullBackOffMs: 60_000 });
    const runner = { ...defaultKubernetesRunnerConfig, namespace: 'runners', instance: 'load', image: 'registry.example/does-not-exist:1' };
    const env = { RUNNER_BACKEND: 'kubernetes', API_KEYS: `${ALICE.name}:${ALICE.key},${BOB.name}:${BOB.key},carol:carol-key-0123456789abcdef` };
    const replicas: TestController[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const backend = createKubernetesRunner({ kubeConfig: cluster.kubeConfig(), config: runner, logger: pino({ level: 'silent' }) });
        replicas.push(await startTestController({ databaseUrl: t.url, env, overrides: { backend } }));
      }
      const keys = [ALICE.key, BOB.key, 'carol-key-0123456789abcdef'];
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          replicas[i % 2]!.api('/api/sessions', { method: 'POST', key: keys[i % 3], json: { code_url: `https://${CODE_HOST}/r.tar.gz`, command: `echo ${i}` } }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(100).fill(201));
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ sessionId: string; token: string }>;
      expect(new Set(bodies.map((b) => b.sessionId)).size).toBe(100);
      expect(new Set(bodies.map((b) => b.token)).size).toBe(100);

      const owners = await t.db('sessions').select('owner').count({ n: '*' }).groupBy('owner').orderBy('owner');
      expect(owners).toEqual([
        { owner: 'alice', n: '34' },
        { owner: 'bob', n: '33' },
        { owner: 'carol', n: '33' },
      ]);
      expect(await t.db('session_tokens').count({ n: '*' }).first()).toEqual({ n: '100' });
      const creates = cluster.api.requests.filter((r) => r.method === 'POST' && r.resource === 'jobs');
      expect(creates.map((r) => r.status)).toEqual(Array(100).fill(201));
      const commands = await t.db('sessions').pluck('command');
      expect(new Set(commands).size).toBe(100);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await cluster.close();
    }
  });

  it('holds MAX_ACTIVE_SESSIONS_PER_KEY exactly under a burst: 4 created, 8 refused with 429', async () => {
    const code = await codeFolder();
    const c = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true', MAX_ACTIVE_SESSIONS_PER_KEY: '4', API_KEYS: 'dave:dave-key-0123456789abcdef' } });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () =>
          c.api('/api/sessions', { method: 'POST', key: 'dave-key-0123456789abcdef', json: { code_url: code, command: 'sleep 30', install_cmd: '' } }).then(async (r) => {
            if (r.status === 429) expect(((await r.json()) as { error: string }).error).toMatch(/too many active sessions for this API key \(4 of 4\)/);
            return r.status;
          }),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(4);
      expect(statuses.filter((s) => s === 429)).toHaveLength(8);
      expect(await t.db('sessions').where({ owner: 'dave' }).count({ n: '*' }).first()).toEqual({ n: '4' });
    } finally {
      await c.close();
      await rm(code, { recursive: true, force: true });
    }
  });
});
