import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { startFileServer, bytes } from '@cliscale/test-kit/file-server';
import { tarGz } from '@cliscale/test-kit/archive-builders';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { eventually } from '@cliscale/test-kit/eventually';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { defaultKubernetesRunnerConfig } from '../src/runners/kubernetes/kubernetes-config.js';
import { createKubernetesRunner } from '../src/runners/kubernetes/kubernetes-runner.js';
import { runnerLabels } from '../src/runners/kubernetes/runner-labels.js';
import { FakeCluster } from './helpers/fake-kubernetes/fake-cluster.js';
import type { FakeJob, FakePod } from './helpers/fake-kubernetes/types.js';
import { startTestController, type TestController } from './helpers/controller-harness.js';
import { finalState as pollFinalState } from '@cliscale/test-kit/session-polling';

/**
 * The whole controller on the Kubernetes backend: sessions created through the API become Jobs on a fake
 * API server, whose kubelet runs the real supervisor, which fetches the code over HTTP from loopback.
 */
const RUNNER = { ...defaultKubernetesRunnerConfig, namespace: 'runners', instance: 'e2e', image: 'cliscale-runner:test' };
let t: TestDatabase;
let cluster: FakeCluster;
/** The runner pods of one session, as the fake apiserver holds them. */
const podsOf = (sessionId: string) => cluster.store.list<FakePod>('Pod', 'runners').filter((p) => p.metadata.labels?.['cliscale.dev/session-id'] === sessionId);
let c: TestController;
let files: Awaited<ReturnType<typeof startFileServer>>;
const clients: TtyClient[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  cluster = await FakeCluster.start();
  files = await startFileServer({
    '/job.tar.gz': bytes(tarGz([{ name: 'job/run.sh', data: '[ -d "$HOME" ] && echo "home is $HOME"\necho "pod says $PROMPT"\nread -r answer\necho "got $answer"\nexit 7\n' }])),
  });
  const backend = createKubernetesRunner({ kubeConfig: cluster.kubeConfig(), config: RUNNER, logger: pino({ level: 'silent' }) });
  c = await startTestController({
    databaseUrl: t.url,
    env: { RUNNER_BACKEND: 'kubernetes', ALLOWED_CODE_HOSTS: '127.0.0.1', ALLOW_HTTP_CODE_URLS: 'true', ALLOW_PRIVATE_CODE_HOSTS: 'true' },
    overrides: { backend },
  });
});
afterAll(async () => {
  for (const client of clients) client.dispose();
  await c?.close();
  await cluster?.close();
  await files?.close();
  await t?.drop();
});

const finalState = (sessionId: string) => pollFinalState((path) => c.api(path), sessionId);

describe('sessions on the Kubernetes backend', () => {
  it('runs end to end: Job created, pod Ready, terminal reachable with the credential, exit code recorded', async () => {
    const res = await c.api('/api/sessions?wait=ready', {
      method: 'POST',
      json: { code_url: `${files.url}/job.tar.gz`, command: 'sh run.sh', install_cmd: '', prompt: 'hello from the API' },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { sessionId: string; status: string };
    expect(created.status).toBe('running');

    const job = cluster.store.get<FakeJob>('Job', 'runners', `cliscale-${created.sessionId}`)!;
    expect(job.metadata.labels).toEqual(runnerLabels('e2e', created.sessionId));
    const env = Object.fromEntries((job.spec!.template.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ CODE_URL: `${files.url}/job.tar.gz`, COMMAND: 'sh run.sh', INSTALL_CMD: '', PROMPT: 'hello from the API', HOST: '0.0.0.0' });
    const row = await t.db('sessions').where({ id: created.sessionId }).first();
    expect(env.CREDENTIAL).toBe(row.runner_credential);
    expect(row).toMatchObject({ status: 'running', runner_name: `cliscale-${created.sessionId}`, runner_port: 7681 });
    expect(row.runner_host).toMatch(/^127\./);

    const client = await TtyClient.connect(`ws://${row.runner_host}:7681/ws`, {
      init: { AuthToken: Buffer.from(row.runner_credential).toString('base64') },
    });
    clients.push(client);
    await client.waitForText('pod says hello from the API');
    // HOME is an empty volume's subfolder in the pod: the supervisor creates it.
    expect(client.text()).toMatch(/home is \/.*\/home/);
    client.type('forty-two\r');
    await client.waitForText('got forty-two');
    expect(await finalState(created.sessionId)).toMatchObject({ status: 'failed', exitCode: 7, failureReason: 'the command exited with code 7' });
  });

  it("a failure before the command reaches the session through the pod's termination message", async () => {
    const res = await c.api('/api/sessions', { method: 'POST', json: { code_url: `${files.url}/missing.tar.gz`, command: 'sh run.sh', install_cmd: '' } });
    expect(res.status).toBe(201);
    const { sessionId } = (await res.json()) as { sessionId: string };
    const ended = await finalState(sessionId);
    expect(ended).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(ended.failureReason).toMatch(/^fetch failed: .*404/);
    // The same text the kubelet put into the pod's status, from the file the Job names.
    const pod = podsOf(sessionId)[0]!;
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe(ended.failureReason);
  });

  it('cancel deletes the Job with background propagation and its pod goes away', async () => {
    const res = await c.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: `${files.url}/job.tar.gz`, command: 'sleep 300', install_cmd: '' } });
    const { sessionId } = (await res.json()) as { sessionId: string };
    expect((await c.api(`/api/sessions/${sessionId}`, { method: 'DELETE' })).status).toBe(200);
    expect(cluster.store.get('Job', 'runners', `cliscale-${sessionId}`)).toBeUndefined();
    const deletes = cluster.api.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`cliscale-${sessionId}`));
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.query.propagationPolicy).toBe('Background');
    await eventually(() => podsOf(sessionId).length === 0, 5_000, "the cancelled session's pod to go away");
    expect((await finalState(sessionId)).status).toBe('cancelled');
  });

  it('the reconciler deletes Jobs whose session is finished or unknown', async () => {
    const stray = '11111111-2222-4333-8444-555555555555';
    // A Job nobody has a row for (created by hand, or by a replica against another database).
    await c.controller.backend.launch({ sessionId: stray, env: { COMMAND: 'sleep 300' }, deadlineSeconds: 60 });
    const res = await c.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: `${files.url}/job.tar.gz`, command: 'sleep 300', install_cmd: '' } });
    const { sessionId } = (await res.json()) as { sessionId: string };
    await t.db('sessions').where({ id: sessionId }).update({ status: 'cancelled' });
    const report = await c.controller.reconcile();
    expect(report.stopped.sort()).toEqual([sessionId, stray].sort());
    expect(cluster.store.get('Job', 'runners', `cliscale-${sessionId}`)).toBeUndefined();
    expect(cluster.store.get('Job', 'runners', `cliscale-${stray}`)).toBeUndefined();
  });

  it('answers 503 with Retry-After when the Kubernetes API is down, and records the session as failed', async () => {
    cluster.api.setDown(true);
    try {
      const res = await c.api('/api/sessions', { method: 'POST', json: { code_url: `${files.url}/job.tar.gz`, command: 'true' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('10');
      const body = (await res.json()) as { error: string; sessionId: string };
      expect(body.error).toMatch(/^runner backend unavailable: creating runner Job cliscale-.*: the Kubernetes API is unavailable \(HTTP 503\)/);
      const row = await t.db('sessions').where({ id: body.sessionId }).first();
      expect(row).toMatchObject({ status: 'failed' });
      expect(row.failure_reason).toMatch(/^runner backend unavailable/);
    } finally {
      cluster.api.setDown(false);
    }
    const again = await c.api('/api/sessions', { method: 'POST', json: { code_url: `${files.url}/job.tar.gz`, command: 'true' } });
    expect(again.status).toBe(201);
  });
});
