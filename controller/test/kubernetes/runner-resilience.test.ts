import { afterEach, describe, expect, it } from '@jest/globals';
import { RunnerUnavailableError } from '../../src/runners/runner-backend.js';
import { TEST_CONFIG, useFakeCluster } from './support/runner-fixture.js';
import { eventually } from '@cliscale/test-kit/eventually';
import { commandSession } from './support/runner-events.js';

const fixture = useFakeCluster({ bookmarkIntervalMs: 200 });

afterEach(() => {
  fixture.cluster.api.setDown(false);
});

/** The API requests made for one install (its label selector names the instance). */
function requestsOf(instance: string, since = 0) {
  return fixture.cluster.api.requests.slice(since).filter((r) => r.query.labelSelector?.includes(`app.kubernetes.io/instance=${instance}`));
}

/** The error a call rejects with; fails the test if it resolves. */
async function rejectionOf(call: Promise<unknown>): Promise<Error> {
  const outcome = await call.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  if (!('err' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.err).toBeInstanceOf(Error);
  return outcome.err as Error;
}

function podPhase(sessionId: string) {
  return fixture.podOf(sessionId)?.status?.phase;
}

describe('when the Kubernetes API is unavailable', () => {
  it('launch, cancel and list reject with RunnerUnavailableError, for a 503 and for a refused connection', async () => {
    const backend = fixture.backend();
    const spec = commandSession('exit 0');
    fixture.cluster.api.setDown(true);
    const launch = backend.launch(spec);
    await expect(launch).rejects.toBeInstanceOf(RunnerUnavailableError);
    await expect(launch).rejects.toThrow(/Kubernetes API is unavailable \(HTTP 503\)/);
    await expect(backend.cancel(spec.sessionId)).rejects.toBeInstanceOf(RunnerUnavailableError);
    await expect(backend.list()).rejects.toBeInstanceOf(RunnerUnavailableError);

    fixture.cluster.api.setDown(true, 'refuse');
    await expect(backend.launch(spec)).rejects.toThrow(RunnerUnavailableError);
    await expect(backend.launch(spec)).rejects.toThrow(/Kubernetes API is unreachable/);

    fixture.cluster.api.setDown(false);
    await expect(backend.launch(spec)).resolves.toEqual({ runnerName: `cliscale-${spec.sessionId}` });
  });

  it('refusals are plain errors carrying the API message, never "unavailable"', async () => {
    const backend = fixture.backend();
    fixture.cluster.api.forbid('create', 'jobs');
    try {
      const forbidden = await rejectionOf(backend.launch(commandSession('exit 0')));
      expect(forbidden).not.toBeInstanceOf(RunnerUnavailableError);
      expect(forbidden.message).toMatch(/HTTP 403.*cannot create resource "jobs" in API group "batch"/);
    } finally {
      fixture.cluster.api.allow('create', 'jobs');
    }
    const invalid = await rejectionOf(backend.launch({ ...commandSession('exit 0'), sessionId: 'Not_A_Session' }));
    expect(invalid).not.toBeInstanceOf(RunnerUnavailableError);
    expect(invalid.message).toMatch(/HTTP 422.*"cliscale-Not_A_Session" is invalid: metadata.name/);

    const stranger = fixture.backend({}, fixture.cluster.kubeConfig('wrong-token'));
    const unauthorized = await rejectionOf(stranger.launch(commandSession('exit 0')));
    expect(unauthorized).not.toBeInstanceOf(RunnerUnavailableError);
    expect(unauthorized.message).toMatch(/HTTP 401/);
  });

  it('start() waits for the API, then events flow', async () => {
    fixture.cluster.api.setDown(true, 'refuse');
    const backend = fixture.backend({ instance: 'late' });
    const events: string[] = [];
    let started = false;
    const starting = backend.start((e) => events.push(e.state)).then(() => (started = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(started).toBe(false);
    fixture.cluster.api.setDown(false);
    await starting;
    await backend.launch(commandSession('exit 0'));
    await eventually(() => events.includes('succeeded'), 10_000, 'the session to succeed');
  });
});

describe('the Pod watch', () => {
  it('resumes after an outage and delivers what happened meanwhile', async () => {
    const { backend, events } = await fixture.runner({ instance: 'outage' });
    const spec = commandSession('sleep 1; exit 0');
    await backend.launch(spec);
    await events.waitFor(spec.sessionId, 'running');
    fixture.cluster.api.setDown(true, 'refuse');
    const mark = fixture.cluster.api.requests.length;
    await eventually(() => podPhase(spec.sessionId) === 'Succeeded', 10_000, 'the pod to finish');
    expect(events.of(spec.sessionId).some((e) => e.state === 'succeeded')).toBe(false);

    fixture.cluster.api.setDown(false);
    expect(await events.waitFor(spec.sessionId, 'succeeded')).toMatchObject({ exitCode: 0 });
    const resumed = requestsOf('outage', mark).filter((r) => r.verb === 'watch' && r.status === 200);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(resumed[0]!.query.resourceVersion).toMatch(/^\d+$/);
  });

  it('loses nothing when the server keeps dropping watches mid-session', async () => {
    const { backend, events } = await fixture.runner({ instance: 'flaky' });
    const mark = fixture.cluster.api.requests.length;
    const breaker = setInterval(() => fixture.cluster.api.breakWatches(), 150);
    try {
      const spec = commandSession('sleep 1.5; exit 4');
      await backend.launch(spec);
      expect(await events.waitFor(spec.sessionId, 'failed')).toMatchObject({ exitCode: 4 });
      expect(events.states(spec.sessionId)).toEqual(['starting', 'running', 'failed']);
    } finally {
      clearInterval(breaker);
    }
    const watches = requestsOf('flaky', mark).filter((r) => r.verb === 'watch');
    expect(watches.length).toBeGreaterThanOrEqual(5);
    // Each resumed from where the last one stopped: no relist was needed.
    expect(watches.every((r) => r.query.resourceVersion && !r.expired)).toBe(true);
    expect(requestsOf('flaky', mark).filter((r) => r.verb === 'list')).toEqual([]);
  });

  it('keeps its resume point current with bookmarks while its runners are quiet', async () => {
    await fixture.runner({ instance: 'quiet' });
    const busy = await fixture.runner({ instance: 'busy' });
    // Changes the quiet watch never sees advance the resourceVersion it would resume from.
    const spec = commandSession('exit 0');
    await busy.backend.launch(spec);
    await busy.events.waitFor(spec.sessionId, 'succeeded');
    await new Promise((r) => setTimeout(r, 500));
    const mark = fixture.cluster.api.requests.length;
    fixture.cluster.api.compact();
    fixture.cluster.api.breakWatches();
    await eventually(() => requestsOf('quiet', mark).some((r) => r.verb === 'watch'), 5_000, 'the quiet watch to resume');
    expect(requestsOf('quiet', mark).filter((r) => r.expired || r.verb === 'list')).toEqual([]);
  });

  it('lists again after 410 Gone and still delivers every final state', async () => {
    const { backend, events } = await fixture.runner({ instance: 'compacted' });
    const exits = commandSession('sleep 1; exit 5');
    const deleted = commandSession('sleep 60');
    await backend.launch(exits);
    await backend.launch(deleted);
    await events.waitFor(exits.sessionId, 'running');
    await events.waitFor(deleted.sessionId, 'running');

    fixture.cluster.api.setDown(true);
    const mark = fixture.cluster.api.requests.length;
    // Meanwhile one command ends, and someone deletes the other's Job (kubectl delete job, background).
    fixture.cluster.deletions.deleteJob(TEST_CONFIG.namespace, `cliscale-${deleted.sessionId}`, 'Background');
    await eventually(() => podPhase(exits.sessionId) === 'Failed' && !fixture.podOf(deleted.sessionId), 10_000, 'both pods to end');
    fixture.cluster.api.compact();
    fixture.cluster.api.setDown(false);

    expect(await events.waitFor(exits.sessionId, 'failed')).toMatchObject({ exitCode: 5 });
    expect(await events.waitFor(deleted.sessionId, 'cancelled')).toMatchObject({ reason: 'runner deleted' });
    const after = requestsOf('compacted', mark).filter((r) => r.status === 200);
    const gone = after.findIndex((r) => r.expired);
    expect(gone).toBeGreaterThanOrEqual(0);
    expect(after.slice(gone + 1).some((r) => r.verb === 'list')).toBe(true);
  });

  it('stops for good on close(): no more requests, no more events', async () => {
    const { backend, events } = await fixture.runner({ instance: 'closing' });
    // Closed while its watch is failing and being retried.
    fixture.cluster.api.setDown(true);
    await new Promise((r) => setTimeout(r, 200));
    await backend.close();
    // A request sent just before close() may reach the server a moment later; it is answered while the API
    // is still down. A backend that kept retrying would send more within its 100-400 ms backoff.
    await new Promise((r) => setTimeout(r, 300));
    fixture.cluster.api.setDown(false);
    const mark = fixture.cluster.api.requests.length;
    const spec = commandSession('exit 0');
    await fixture.backend({ instance: 'closing' }).launch(spec);
    await eventually(() => fixture.podOf(spec.sessionId)?.status?.phase === 'Succeeded', 10_000, 'the session to end');
    await new Promise((r) => setTimeout(r, 600));
    expect(requestsOf('closing', mark)).toEqual([]);
    expect(events.of(spec.sessionId)).toEqual([]);
  });
});
