import { describe, expect, it } from '@jest/globals';
import { BatchV1Api } from '@kubernetes/client-node';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { buildRunnerJob } from '../../src/runners/kubernetes/job-manifest.js';
import { alive, TEST_CONFIG, useFakeCluster } from './support/runner-fixture.js';
import { eventually } from '@cliscale/test-kit/eventually';
import { commandSession } from './support/runner-events.js';

const fixture = useFakeCluster();

describe('a session on the Kubernetes backend', () => {
  it('starts, runs a supervisor that answers at its endpoint, and succeeds with exit code 0', async () => {
    const { backend, events } = await fixture.runner();
    const greeting = `it's "quoted" $(echo injected) \`echo ticks\` $HOME\nline two`;
    const spec = commandSession('printf "%s\\n" "$GREETING"; read answer; echo "answer=$answer"; exit 0', { env: { GREETING: greeting } });

    const { runnerName } = await backend.launch(spec);
    expect(runnerName).toBe(`cliscale-${spec.sessionId}`);
    // launch never waits for the pod
    expect(events.of(spec.sessionId).some((e) => e.state === 'running')).toBe(false);

    const running = await events.waitFor(spec.sessionId, 'running');
    expect(events.of(spec.sessionId)[0]).toMatchObject({ state: 'starting', runnerName });
    expect(running.endpoint!.port).toBe(7681);
    expect(running.endpoint!.host).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(running.endpoint!.host).not.toBe('127.0.0.1');
    expect(running.endpoint!.host).toBe(fixture.podOf(spec.sessionId)!.status!.podIP);
    const health = await fetch(`http://${running.endpoint!.host}:${running.endpoint!.port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });

    const client = await TtyClient.connect(`ws://${running.endpoint!.host}:${running.endpoint!.port}/ws`);
    try {
      // The value reached the command as data: printed as it is, nothing in it executed.
      await client.waitForText(greeting.replace('\n', '\r\n'));
      client.type('bye\r');
      await client.waitForText('answer=bye');
      expect((await client.closed).code).toBe(1000);
      expect(client.exitStatus).toEqual({ exitCode: 0, signal: null });
    } finally {
      client.dispose();
    }

    expect(await events.waitFor(spec.sessionId, 'succeeded')).toMatchObject({ exitCode: 0, runnerName });
    expect(events.states(spec.sessionId)).toEqual(['starting', 'running', 'succeeded']);
  });

  it("fails with the command's exit code", async () => {
    const { backend, events } = await fixture.runner();
    const spec = commandSession('echo bye; exit 3');
    await backend.launch(spec);
    const failed = await events.waitFor(spec.sessionId, 'failed');
    expect(failed.exitCode).toBe(3);
    // The supervisor's termination message, copied into the pod's status by the kubelet.
    expect(failed.reason).toBe('the command exited with code 3');
    expect(events.states(spec.sessionId).at(-1)).toBe('failed');
  });

  it('expires at its deadline, and the command is stopped', async () => {
    const { backend, events } = await fixture.runner();
    // Long enough for the pod to become Ready first on a loaded machine (its supervisor is a real Node process):
    // at 2 s, with three busy loops on two cores, the deadline sometimes came before Ready.
    const deadlineSeconds = 6;
    const spec = commandSession('echo waiting; sleep 60', { deadlineSeconds });
    const launchedAt = Date.now();
    await backend.launch(spec);
    await events.waitFor(spec.sessionId, 'running');
    const podName = fixture.podOf(spec.sessionId)!.metadata.name;
    const pids = fixture.cluster.kubelet.container(podName)!.pids();
    expect(pids.length).toBeGreaterThanOrEqual(2);

    expect(await events.waitFor(spec.sessionId, 'expired')).toMatchObject({ reason: 'deadline exceeded' });
    expect(Date.now() - launchedAt).toBeGreaterThanOrEqual(deadlineSeconds * 1000 - 100);
    await eventually(() => pids.every((pid) => !alive(pid)), 10_000, 'the container processes to end');
    expect(events.of(spec.sessionId).filter((e) => e.state === 'failed' || e.state === 'cancelled')).toEqual([]);
  });

  it("expires from the Pod alone when the kubelet enforces the Pod's deadline", async () => {
    const { events } = await fixture.runner();
    const spec = commandSession('sleep 60', { deadlineSeconds: 2 });
    // The same Job, but only the Pod has the short deadline: the Pod watch must see status.reason DeadlineExceeded.
    const job = buildRunnerJob(spec, TEST_CONFIG);
    job.spec!.activeDeadlineSeconds = 600;
    await fixture.cluster.kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({ namespace: TEST_CONFIG.namespace, body: job });

    expect(await events.waitFor(spec.sessionId, 'expired')).toMatchObject({ reason: 'deadline exceeded' });
    const pod = await eventually(() => (fixture.podOf(spec.sessionId)?.status?.phase === 'Failed' ? fixture.podOf(spec.sessionId) : undefined));
    expect(pod.status!.reason).toBe('DeadlineExceeded');
    expect(pod.metadata.deletionTimestamp).toBeUndefined();
  });

  it('fails with "out of memory" when the container is OOM-killed', async () => {
    const { backend, events } = await fixture.runner();
    const spec = commandSession('echo started; sleep 60');
    await backend.launch(spec);
    await events.waitFor(spec.sessionId, 'running');
    const podName = fixture.podOf(spec.sessionId)!.metadata.name;
    const pids = fixture.cluster.kubelet.container(podName)!.pids();

    await fixture.cluster.kubelet.oomKill(podName);
    expect(await events.waitFor(spec.sessionId, 'failed')).toMatchObject({ exitCode: 137, reason: 'out of memory (OOMKilled)' });
    expect(pids.filter(alive)).toEqual([]);
  });
});
