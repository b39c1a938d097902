import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ApiException, BatchV1Api, CoreV1Api, Watch } from '@kubernetes/client-node';
import { buildRunnerJob } from '../../src/runners/kubernetes/job-manifest.js';
import { FakeCluster } from '../helpers/fake-kubernetes/fake-cluster.js';
import type { FakePod } from '../helpers/fake-kubernetes/types.js';
import { alive, TEST_CONFIG, useFakeCluster } from './support/runner-fixture.js';
import { eventually } from '@cliscale/test-kit/eventually';
import { commandSession } from './support/runner-events.js';

/** The fake must behave where fakes usually lie; these pin down what the backend's tests rely on. */
const fixture = useFakeCluster();
const namespace = TEST_CONFIG.namespace;

function apis(token?: string) {
  const kc = fixture.cluster.kubeConfig(token);
  return { batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api), kc };
}

async function createJob(command: string, deadlineSeconds = 60) {
  const spec = commandSession(command, { deadlineSeconds });
  const job = await apis().batch.createNamespacedJob({ namespace, body: buildRunnerJob(spec, TEST_CONFIG) });
  return { spec, job };
}

async function errorOf(call: Promise<unknown>): Promise<ApiException<unknown>> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiException);
  return err as ApiException<unknown>;
}

describe('the fake apiserver', () => {
  it('answers 401 without the bearer token', async () => {
    const err = await errorOf(apis('nope').core.listNamespacedPod({ namespace }));
    expect(err.code).toBe(401);
  });

  it('stores Jobs like the real one: uid, resourceVersion, generated selector and labels; Status errors', async () => {
    const { job } = await createJob('exit 0');
    expect(job.metadata!.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.metadata!.resourceVersion).toMatch(/^\d+$/);
    expect(job.metadata!.creationTimestamp).toBeInstanceOf(Date);
    expect(job.spec!.selector!.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': job.metadata!.uid });
    expect(job.spec!.template.metadata!.labels).toMatchObject({ 'job-name': job.metadata!.name, 'controller-uid': job.metadata!.uid });

    const { batch } = apis();
    const again = await errorOf(batch.createNamespacedJob({ namespace, body: { ...job, metadata: { name: job.metadata!.name } } }));
    expect(again.code).toBe(409);
    expect(JSON.parse(again.body as string)).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', message: `jobs.batch "${job.metadata!.name}" already exists` });
    const tooLong = await errorOf(batch.createNamespacedJob({ namespace, body: { ...job, metadata: { name: 'x'.repeat(64) } } }));
    expect(JSON.parse(tooLong.body as string)).toMatchObject({ code: 422, reason: 'Invalid' });
    const missing = await errorOf(batch.readNamespacedJob({ namespace, name: 'no-such-job' }));
    expect(JSON.parse(missing.body as string)).toMatchObject({ code: 404, reason: 'NotFound', message: 'jobs.batch "no-such-job" not found' });
  });

  it('a Job gets its Pod from the job controller: labelled, owned, with an IP before it is ready, then Complete', async () => {
    const seen: FakePod[] = [];
    const unsubscribe = fixture.cluster.store.subscribe((e) => e.object.kind === 'Pod' && seen.push(e.object));
    try {
      const { job } = await createJob('exit 0');
      const name = job.metadata!.name!;
      await eventually(async () => (await apis().batch.readNamespacedJob({ namespace, name })).status?.succeeded === 1, 10_000, 'Job complete');
      const done = await apis().batch.readNamespacedJob({ namespace, name });
      expect(done.status!.conditions!.map((c) => c.type)).toContain('Complete');

      const versions = seen.filter((p) => p.metadata.labels?.['job-name'] === name);
      const pod = versions.at(-1)!;
      expect(pod.metadata.name).toMatch(new RegExp(`^${name}-[a-z0-9]{5}$`));
      expect(pod.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': name, 'batch.kubernetes.io/controller-uid': job.metadata!.uid, 'cliscale.dev/session-id': expect.any(String) });
      expect(pod.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name, uid: job.metadata!.uid, controller: true })]);
      const firstIp = versions.findIndex((p) => p.status?.podIP);
      const firstReady = versions.findIndex((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      expect(firstIp).toBeGreaterThanOrEqual(0);
      expect(versions[firstIp]!.status!.containerStatuses![0]!.state!.waiting!.reason).toBe('ContainerCreating');
      if (firstReady >= 0) expect(firstReady).toBeGreaterThan(firstIp);
      expect(pod.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    } finally {
      unsubscribe();
    }
  });

  it('deleting a Job without propagation orphans its running Pod; Foreground waits for the Pod', async () => {
    const { spec, job } = await createJob('sleep 60');
    const name = job.metadata!.name!;
    const pod = await eventually(() => fixture.podOf(spec.sessionId)?.status?.phase === 'Running' && fixture.podOf(spec.sessionId));
    await apis().batch.deleteNamespacedJob({ namespace, name });
    await eventually(() => !fixture.podOf(spec.sessionId)?.metadata.ownerReferences, 5_000, 'the pod to be orphaned');
    expect(fixture.podOf(spec.sessionId)!.metadata.deletionTimestamp).toBeUndefined();
    expect(fixture.cluster.kubelet.container(pod.metadata.name)!.pids().length).toBeGreaterThan(0);
    fixture.cluster.deletions.deletePod(namespace, pod.metadata.name);

    const second = await createJob('sleep 60');
    await eventually(() => fixture.podOf(second.spec.sessionId)?.status?.phase === 'Running', 10_000, 'running');
    const deleting = await apis().batch.deleteNamespacedJob({ namespace, name: second.job.metadata!.name!, propagationPolicy: 'Foreground' });
    expect(deleting).toBeDefined();
    expect(fixture.jobOf(second.spec.sessionId)!.metadata.deletionTimestamp).toBeDefined();
    await eventually(() => !fixture.jobOf(second.spec.sessionId) && !fixture.podOf(second.spec.sessionId), 10_000, 'job and pod gone');
  });

  it('answers a watch from a compacted resourceVersion with an ERROR 410 event', async () => {
    const { core, kc } = apis();
    const list = await core.listNamespacedPod({ namespace });
    await createJob('exit 0');
    fixture.cluster.api.compact();
    const events: Array<{ type: string; object: { code?: number; reason?: string } }> = [];
    await new Promise<void>((resolve) => {
      void new Watch(kc).watch(`/api/v1/namespaces/${namespace}/pods`, { resourceVersion: list.metadata!.resourceVersion }, (type, object) => events.push({ type, object }), () => resolve());
    });
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
  });
});

describe('closing the fake cluster', () => {
  it('kills every container process and removes every pod folder', async () => {
    const cluster = await FakeCluster.start();
    let pids: number[];
    try {
      const spec = commandSession('sleep 60');
      await cluster.kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({ namespace, body: buildRunnerJob(spec, TEST_CONFIG) });
      pids = await eventually(() => {
        const pod = cluster.store.list<FakePod>('Pod', namespace)[0];
        const found = pod && cluster.kubelet.container(pod.metadata.name)?.pids();
        return found && found.length >= 2 ? found : undefined;
      }, 10_000, 'the container to run');
    } finally {
      await cluster.close();
    }
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(cluster.kubelet.root)).toBe(false);
  });
});
