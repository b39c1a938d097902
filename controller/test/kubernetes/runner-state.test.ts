import { describe, expect, it } from '@jest/globals';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { eventForVanishedPod, eventFromJob, readRunnerPod } from '../../src/runners/kubernetes/runner-state.js';

const SESSION = 'a5e0c3f4-1111-4222-8333-944455556666';
const JOB = `cliscale-${SESSION}`;
const PORT = 7681;
const labels = { 'cliscale.dev/session-id': SESSION, 'batch.kubernetes.io/job-name': JOB, 'job-name': JOB };

type Status = NonNullable<V1Pod['status']>;
type State = NonNullable<NonNullable<Status['containerStatuses']>[number]['state']>;

/** A runner pod as the API serves it; watch events carry timestamps as strings, so the helpers use strings. */
function pod(status: Status, metadata: Record<string, unknown> = {}): V1Pod {
  return { metadata: { name: `${JOB}-x7k2p`, labels, ...metadata }, status };
}

function withContainer(state: State, extra: Partial<Status> = {}): Status {
  return { phase: 'Running', podIP: '10.4.0.7', containerStatuses: [{ name: 'supervisor', image: 'i', imageID: '', ready: false, restartCount: 0, state }], ...extra };
}

const readyCondition = (status: 'True' | 'False') => [{ type: 'Ready', status }];
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds)).toISOString();
const terminated = (exitCode: number, reason: string, finishedAt = at(10)) => ({ terminated: { exitCode, reason, finishedAt } }) as unknown as State;

function eventOf(p: V1Pod, gone = false) {
  return readRunnerPod(p, PORT, gone)?.event;
}

describe('reading a runner Pod', () => {
  it('ignores Pods that belong to no session', () => {
    expect(readRunnerPod({ metadata: { name: 'other', labels: { app: 'x' } }, status: {} }, PORT)).toBeUndefined();
  });

  it('is starting while pending, named after its Job', () => {
    expect(eventOf(pod({ phase: 'Pending' }))).toEqual({ sessionId: SESSION, runnerName: JOB, state: 'starting' });
  });

  it('is still starting with an IP but no Ready condition: the supervisor may not listen yet', () => {
    const creating = withContainer({ waiting: { reason: 'ContainerCreating' } }, { phase: 'Pending', conditions: readyCondition('False') });
    expect(eventOf(pod(creating))).toEqual({ sessionId: SESSION, runnerName: JOB, state: 'starting' });
    const runningNotReady = withContainer({ running: { startedAt: at(1) as never } }, { conditions: readyCondition('False') });
    expect(eventOf(pod(runningNotReady))?.state).toBe('starting');
  });

  it('is running, with the pod IP and supervisor port as endpoint, once Ready', () => {
    const ready = withContainer({ running: { startedAt: at(1) as never } }, { conditions: readyCondition('True') });
    expect(eventOf(pod(ready))).toEqual({ sessionId: SESSION, runnerName: JOB, state: 'running', endpoint: { host: '10.4.0.7', port: PORT } });
    expect(eventOf(pod({ ...ready, podIP: undefined }))?.state).toBe('starting');
  });

  it('reports exit codes: 0 succeeded, anything else failed, with no reason for a plain exit', () => {
    expect(eventOf(pod(withContainer(terminated(0, 'Completed'), { phase: 'Succeeded' })))).toMatchObject({ state: 'succeeded', exitCode: 0 });
    const failed = eventOf(pod(withContainer(terminated(3, 'Error'), { phase: 'Failed' })));
    expect(failed).toMatchObject({ state: 'failed', exitCode: 3, endpoint: { host: '10.4.0.7', port: PORT } });
    expect(failed?.reason).toBeUndefined();
  });

  it("takes the supervisor's termination message as the reason, without control characters", () => {
    const state = { terminated: { exitCode: 3, reason: 'Error', message: 'fetch failed: HTTP 404\x1b[31m from https://example.com/x.tgz\n', finishedAt: at(10) } } as unknown as State;
    expect(eventOf(pod(withContainer(state, { phase: 'Failed' })))).toMatchObject({
      state: 'failed',
      exitCode: 3,
      reason: 'fetch failed: HTTP 404 [31m from https://example.com/x.tgz',
    });
  });

  it('says out of memory for an OOMKilled container', () => {
    expect(eventOf(pod(withContainer(terminated(137, 'OOMKilled'), { phase: 'Failed' })))).toMatchObject({
      state: 'failed',
      exitCode: 137,
      reason: 'out of memory (OOMKilled)',
    });
  });

  it("is expired when the kubelet enforced the pod's deadline, whatever the container's exit code", () => {
    const deadline = withContainer(terminated(143, 'Error'), { phase: 'Failed', reason: 'DeadlineExceeded' });
    expect(eventOf(pod(deadline))).toMatchObject({ state: 'expired', reason: 'deadline exceeded' });
    expect(eventOf(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }))?.state).toBe('expired');
  });

  it('fails a container that can never start, and asks for its Job to be deleted', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']) {
      const reading = readRunnerPod(pod(withContainer({ waiting: { reason, message: 'repo/x: not found' } }, { phase: 'Pending' })), PORT);
      expect(reading).toMatchObject({ neverStarts: true, event: { state: 'failed', reason: 'image pull failed: repo/x: not found' } });
    }
    const config = readRunnerPod(pod(withContainer({ waiting: { reason: 'CreateContainerConfigError', message: 'secret "s" not found' } })), PORT);
    expect(config).toMatchObject({ neverStarts: true, event: { state: 'failed' } });
    expect(config?.event?.reason).toContain('secret "s" not found');
    expect(readRunnerPod(pod(withContainer({ waiting: { reason: 'ContainerCreating' } })), PORT)?.neverStarts).toBe(false);
  });

  describe('while the Pod is deleted', () => {
    // deletionTimestamp is the end of the grace period: the deletion was asked for 30 s before it.
    const deleting = { deletionTimestamp: at(50), deletionGracePeriodSeconds: 30 };

    it('keeps the exit code of a container that ended before the deletion was asked for', () => {
      const done = pod(withContainer(terminated(0, 'Completed', at(19)), { phase: 'Succeeded' }), deleting);
      expect(eventOf(done)).toMatchObject({ state: 'succeeded', exitCode: 0 });
      expect(eventOf(done, true)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    });

    it('leaves it to the Job when the container was stopped by the deletion (its 143 is not the command failing)', () => {
      const stopped = pod(withContainer(terminated(143, 'Error', at(21)), { phase: 'Failed' }), deleting);
      expect(readRunnerPod(stopped, PORT)).toEqual({ sessionId: SESSION, runnerName: JOB, event: undefined, neverStarts: false });
      const ready = withContainer({ running: { startedAt: at(1) as never } }, { conditions: readyCondition('True') });
      expect(eventOf(pod(ready, deleting))).toBeUndefined();
      expect(eventOf(pod(ready), true)).toBeUndefined();
    });

    it('still says image pull failed for a container that never started', () => {
      const pulling = pod(withContainer({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } }), deleting);
      expect(eventOf(pulling, true)).toMatchObject({ state: 'failed', reason: 'image pull failed: Back-off pulling image "x"' });
    });

    it('reads Date timestamps (typed API responses) like strings (watch events)', () => {
      const stopped = withContainer({ terminated: { exitCode: 0, reason: 'Completed', finishedAt: new Date(at(19)) } }, { phase: 'Succeeded' });
      expect(eventOf(pod(stopped, { deletionTimestamp: new Date(at(50)), deletionGracePeriodSeconds: 30 }))?.state).toBe('succeeded');
      const late = withContainer({ terminated: { exitCode: 143, reason: 'Error', finishedAt: new Date(at(21)) } });
      expect(eventOf(pod(late, { deletionTimestamp: new Date(at(50)), deletionGracePeriodSeconds: 30 }))).toBeUndefined();
    });
  });
});

describe('the Job of a Pod that went away', () => {
  const reading = readRunnerPod(pod(withContainer({ running: {} }), { deletionTimestamp: at(50), deletionGracePeriodSeconds: 30 }), PORT)!;
  const job = (conditions: Array<{ type: string; reason?: string }>, metadata: Record<string, unknown> = {}): V1Job =>
    ({ metadata: { name: JOB, labels, ...metadata }, status: { conditions: conditions.map((c) => ({ status: 'True', ...c })) } });

  it('was cancelled when the Job is gone or being deleted', () => {
    expect(eventForVanishedPod(reading, undefined)).toEqual({ sessionId: SESSION, runnerName: JOB, state: 'cancelled', reason: 'runner deleted' });
    expect(eventForVanishedPod(reading, job([], { deletionTimestamp: at(40) })).state).toBe('cancelled');
  });

  it('expired when the Job hit its deadline (old and new job controllers)', () => {
    expect(eventForVanishedPod(reading, job([{ type: 'Failed', reason: 'DeadlineExceeded' }]))).toMatchObject({ state: 'expired', reason: 'deadline exceeded' });
    expect(eventForVanishedPod(reading, job([{ type: 'FailureTarget', reason: 'DeadlineExceeded' }])).state).toBe('expired');
  });

  it('failed when only the Pod was deleted', () => {
    expect(eventForVanishedPod(reading, job([]))).toMatchObject({ state: 'failed', reason: 'runner pod deleted' });
  });
});

describe('a runner Job without a Pod', () => {
  const job = (conditions: Array<{ type: string; reason?: string }>, metadata: Record<string, unknown> = {}): V1Job =>
    ({ metadata: { name: JOB, ...metadata }, status: { conditions: conditions.map((c) => ({ status: 'True', ...c })) } });

  it('maps the Job conditions', () => {
    expect(eventFromJob(job([]), SESSION)).toEqual({ sessionId: SESSION, runnerName: JOB, state: 'starting' });
    expect(eventFromJob(job([{ type: 'Complete' }]), SESSION)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(eventFromJob(job([{ type: 'Failed', reason: 'DeadlineExceeded' }]), SESSION)).toMatchObject({ state: 'expired', reason: 'deadline exceeded' });
    expect(eventFromJob(job([{ type: 'Failed', reason: 'BackoffLimitExceeded' }]), SESSION)).toMatchObject({ state: 'failed', reason: 'runner failed (BackoffLimitExceeded)' });
    expect(eventFromJob(job([], { deletionTimestamp: at(1) }), SESSION).state).toBe('cancelled');
  });

  it('ignores conditions that are not True', () => {
    const notYet = { metadata: { name: JOB }, status: { conditions: [{ type: 'Failed', status: 'False', reason: 'DeadlineExceeded' }] } } as V1Job;
    expect(eventFromJob(notYet, SESSION).state).toBe('starting');
  });
});
