import { describe, expect, it } from '@jest/globals';
import { alive, TEST_CONFIG, useFakeCluster } from './support/runner-fixture.js';
import { eventually } from '@cliscale/test-kit/eventually';
import { commandSession } from './support/runner-events.js';

const fixture = useFakeCluster({ imagePullBackOffMs: 200 });

function jobDeletes(sessionId: string) {
  return fixture.cluster.api.requests.filter((r) => r.method === 'DELETE' && r.resource === 'jobs' && r.name === `cliscale-${sessionId}`);
}

describe('controlling runners', () => {
  it('cancel deletes the Job with background propagation: the Pod and every process of it go', async () => {
    const { backend, events } = await fixture.runner();
    const spec = commandSession('sleep 60');
    await backend.launch(spec);
    await events.waitFor(spec.sessionId, 'running');
    const podName = fixture.podOf(spec.sessionId)!.metadata.name;
    const pids = fixture.cluster.kubelet.container(podName)!.pids();
    expect(pids.length).toBeGreaterThanOrEqual(2);

    await backend.cancel(spec.sessionId);
    expect(jobDeletes(spec.sessionId).map((r) => r.query.propagationPolicy)).toEqual(['Background']);
    expect(await events.waitFor(spec.sessionId, 'cancelled')).toMatchObject({ reason: 'runner deleted' });
    expect(fixture.jobOf(spec.sessionId)).toBeUndefined();
    await eventually(() => fixture.podOf(spec.sessionId) === undefined, 10_000, 'the pod to be gone');
    await eventually(() => pids.every((pid) => !alive(pid)), 5_000, 'the processes to end');
    // Cancelling again is fine.
    await expect(backend.cancel(spec.sessionId)).resolves.toBeUndefined();
    expect(events.states(spec.sessionId)).toEqual(['starting', 'running', 'cancelled']);
  });

  it('an image that cannot be pulled fails the session at once and its Job is deleted', async () => {
    const { backend, events } = await fixture.runner({ image: 'ghcr.io/example/does-not-exist:1.0' });
    const spec = commandSession('echo never');
    await backend.launch(spec);
    const failed = await events.waitFor(spec.sessionId, 'failed', 5_000);
    expect(failed.reason).toMatch(/^image pull failed: .*does-not-exist.*not found/);
    await eventually(() => fixture.jobOf(spec.sessionId) === undefined && fixture.podOf(spec.sessionId) === undefined, 5_000, 'job and pod gone');
    expect(jobDeletes(spec.sessionId).length).toBeGreaterThanOrEqual(1);
    expect(jobDeletes(spec.sessionId).every((r) => r.query.propagationPolicy === 'Background')).toBe(true);
    // Its deletion is not reported as a cancel: the session failed.
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(events.of(spec.sessionId).map((e) => e.state))).toEqual(new Set(['starting', 'failed']));
  });

  it('a runner Pod deleted on its own (kubectl delete pod) fails the session', async () => {
    const { backend, events } = await fixture.runner();
    const spec = commandSession('sleep 60');
    await backend.launch(spec);
    await events.waitFor(spec.sessionId, 'running');
    fixture.cluster.deletions.deletePod(TEST_CONFIG.namespace, fixture.podOf(spec.sessionId)!.metadata.name);
    expect(await events.waitFor(spec.sessionId, 'failed')).toMatchObject({ reason: 'runner pod deleted' });
    expect(events.of(spec.sessionId).find((e) => e.state === 'failed')!.exitCode).toBeUndefined();
  });

  it('launching a session twice creates one Job', async () => {
    const { backend } = await fixture.runner();
    const spec = commandSession('sleep 60');
    const [first, second] = await Promise.all([backend.launch(spec), backend.launch(spec)]);
    expect(second).toEqual(first);
    expect(await backend.launch(spec)).toEqual(first);
    const posts = fixture.cluster.api.requests.filter((r) => r.method === 'POST' && (r.body as { metadata?: { name?: string } }).metadata?.name === first.runnerName);
    expect(posts.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(fixture.cluster.store.list('Job', TEST_CONFIG.namespace).filter((j) => j.metadata.name === first.runnerName)).toHaveLength(1);
    await backend.cancel(spec.sessionId);
  });

  it('list() returns a snapshot of every runner of this install, finished ones included', async () => {
    const mine = await fixture.runner({ instance: 'team-a' });
    const theirs = await fixture.runner({ instance: 'team-b' });
    const done = commandSession('exit 0');
    const busy = commandSession('sleep 60');
    const other = commandSession('sleep 60');
    const before = Date.now() - 1_000;
    await mine.backend.launch(done);
    await mine.backend.launch(busy);
    await theirs.backend.launch(other);
    await mine.events.waitFor(done.sessionId, 'succeeded');
    await mine.events.waitFor(busy.sessionId, 'running');
    await theirs.events.waitFor(other.sessionId, 'running');

    const snapshots = await mine.backend.list();
    const bySession = new Map(snapshots.map((s) => [s.sessionId, s]));
    expect([...bySession.keys()].sort()).toEqual([done.sessionId, busy.sessionId].sort());
    expect(bySession.get(done.sessionId)).toMatchObject({ state: 'succeeded', exitCode: 0, runnerName: `cliscale-${done.sessionId}` });
    const running = bySession.get(busy.sessionId)!;
    expect(running).toMatchObject({ state: 'running', endpoint: { host: fixture.podOf(busy.sessionId)!.status!.podIP, port: 7681 } });
    for (const s of snapshots) {
      expect(s.createdAt).toBeInstanceOf(Date);
      expect(s.createdAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(s.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    }
    // Installs sharing a namespace never see each other's runners.
    expect(mine.events.of(other.sessionId)).toEqual([]);
    expect(theirs.events.of(busy.sessionId)).toEqual([]);
    expect((await theirs.backend.list()).map((s) => s.sessionId)).toEqual([other.sessionId]);

    // A Job whose Pod is gone is still listed, from its conditions.
    fixture.cluster.deletions.deletePod(TEST_CONFIG.namespace, fixture.podOf(done.sessionId)!.metadata.name);
    await eventually(() => fixture.podOf(done.sessionId) === undefined, 5_000, 'the pod to go');
    expect((await mine.backend.list()).find((s) => s.sessionId === done.sessionId)).toMatchObject({ state: 'succeeded' });

    await mine.backend.cancel(busy.sessionId);
    await theirs.backend.cancel(other.sessionId);
  });
});
