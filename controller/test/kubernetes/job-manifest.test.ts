import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Job } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1';
import { buildRunnerJob } from '../../src/runners/kubernetes/job-manifest.js';
import { defaultKubernetesRunnerConfig, type KubernetesRunnerConfig } from '../../src/runners/kubernetes/kubernetes-config.js';
import { runnerLabelSelector } from '../../src/runners/kubernetes/runner-labels.js';
import type { RunnerSpec } from '../../src/runners/runner-backend.js';

const SESSION = '0b6f1d2e-3c4a-4b5c-8d6e-7f8091a2b3c4';
const config: KubernetesRunnerConfig = { ...defaultKubernetesRunnerConfig, instance: 'prod' };
const spec: RunnerSpec = { sessionId: SESSION, env: { COMMAND: 'npm test', CODE_URL: 'https://github.com/o/r' }, deadlineSeconds: 900 };

function container(job: V1Job): V1Container {
  const containers = job.spec!.template.spec!.containers;
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

function envOf(job: V1Job): Record<string, string | undefined> {
  return Object.fromEntries(container(job).env!.map((e) => [e.name, e.value]));
}

/** kubernetes-models checks the official schema: types, required fields, enums it knows. */
function validate(job: V1Job): void {
  expect(() => new Job(JSON.parse(JSON.stringify(job))).validate()).not.toThrow();
}

describe('the runner Job manifest', () => {
  const job = buildRunnerJob(spec, config);
  const podSpec = job.spec!.template.spec!;

  it('is a valid batch/v1 Job named after the session, in the runner namespace', () => {
    validate(job);
    expect(job).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: `cliscale-${SESSION}`, namespace: 'cliscale-runners' } });
    expect(job.metadata!.name!.length).toBeLessThanOrEqual(63);
  });

  it('labels the Job and its Pods identically, for this install and this session', () => {
    const expected = {
      'app.kubernetes.io/name': 'cliscale-runner',
      'app.kubernetes.io/component': 'runner',
      'app.kubernetes.io/managed-by': 'cliscale-controller',
      'app.kubernetes.io/instance': 'prod',
      'cliscale.dev/session-id': SESSION,
    };
    expect(job.metadata!.labels).toEqual(expected);
    expect(job.spec!.template.metadata!.labels).toEqual(expected);
    expect(runnerLabelSelector('prod')).toBe('app.kubernetes.io/managed-by=cliscale-controller,app.kubernetes.io/instance=prod');
  });

  it('runs once, within the deadline, on the Job and on the Pod, and is cleaned up after the TTL', () => {
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 300 });
    expect(podSpec.activeDeadlineSeconds).toBe(900);
    expect(podSpec.restartPolicy).toBe('Never');
  });

  it('gives the Pod no API credentials, no service links and a locked-down security context', () => {
    expect(podSpec).toMatchObject({ serviceAccountName: 'cliscale-runner', automountServiceAccountToken: false, enableServiceLinks: false });
    expect(podSpec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 1001,
      fsGroup: 1001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container(job).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('runs the image entrypoint (the supervisor) with no command or args, on the tty port', () => {
    const c = container(job);
    expect(c.name).toBe('supervisor');
    expect(c.image).toBe('cliscale-runner:latest');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.command).toBeUndefined();
    expect(c.args).toBeUndefined();
    expect(c.ports).toEqual([{ name: 'tty', containerPort: 7681, protocol: 'TCP' }]);
  });

  it("points the supervisor's termination message at the file Kubernetes reads, with the log's tail as fallback", () => {
    expect(container(job).terminationMessagePath).toBe('/dev/termination-log');
    expect(container(job).terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('is ready only when the supervisor answers /healthz, probed every second', () => {
    const probe = container(job).readinessProbe!;
    expect(probe.httpGet).toEqual({ path: '/healthz', port: 'tty' });
    expect(probe.periodSeconds).toBeLessThanOrEqual(1);
  });

  it('requests and limits cpu, memory and ephemeral storage', () => {
    expect(container(job).resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
      limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '4Gi' },
    });
  });

  it('sets the supervisor contract, and every path it names is on a volume (the root filesystem is read-only)', () => {
    const env = envOf(job);
    expect(env).toEqual({
      CODE_DIR: '/workspace/code',
      CODE_URL: 'https://github.com/o/r',
      COMMAND: 'npm test',
      EXIT_ON_JOB: 'true',
      HOME: '/workspace/home',
      HOST: '0.0.0.0',
      PORT: '7681',
      TERMINATION_MESSAGE_PATH: '/dev/termination-log',
      TMPDIR: '/tmp',
      WRITABLE: 'true',
      npm_config_cache: '/workspace/home/.npm',
    });
    expect(podSpec.volumes).toEqual([
      { name: 'workspace', emptyDir: { sizeLimit: '2Gi' } },
      { name: 'tmp', emptyDir: {} },
    ]);
    const mounts = container(job).volumeMounts!.map((m) => m.mountPath);
    expect(mounts).toEqual(['/workspace', '/tmp']);
    for (const path of [env.CODE_DIR, env.HOME, env.TMPDIR, env.npm_config_cache, container(job).workingDir]) {
      expect(mounts.some((m) => path === m || path!.startsWith(`${m}/`))).toBe(true);
    }
  });

  it("never lets the caller's env override the contract", () => {
    const hostile = buildRunnerJob({ ...spec, env: { PORT: '22', HOST: '127.0.0.1', WRITABLE: 'false', HOME: '/root', TMPDIR: '/', EXIT_ON_JOB: 'false', CODE_DIR: '/etc' } }, config);
    const names = container(hostile).env!.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(envOf(hostile)).toMatchObject({ PORT: '7681', HOST: '0.0.0.0', WRITABLE: 'true', HOME: '/workspace/home', TMPDIR: '/tmp', EXIT_ON_JOB: 'true', CODE_DIR: '/workspace/code' });
  });

  it('puts a hostile value into exactly one env value, verbatim, and nowhere else', () => {
    const tricky = `it's "quoted" $(rm -rf /) \`id\` \${HOME}\nsecond line; exit 1 # \\ end`;
    const withTricky = buildRunnerJob({ ...spec, env: { COMMAND: tricky } }, config);
    validate(withTricky);
    expect(envOf(withTricky).COMMAND).toBe(tricky);
    const serialized = JSON.stringify(withTricky);
    expect(serialized.split(JSON.stringify(tricky)).length - 1).toBe(1);
    expect(container(withTricky).command).toBeUndefined();
    expect(container(withTricky).args).toBeUndefined();
    for (const entry of container(withTricky).env!) expect(Object.keys(entry).sort()).toEqual(['name', 'value']);
  });

  it('is deterministic: env sorted by name whatever order the caller used', () => {
    const a = buildRunnerJob({ ...spec, env: { B: '2', A: '1', C: '3' } }, config);
    const b = buildRunnerJob({ ...spec, env: { C: '3', A: '1', B: '2' } }, config);
    expect(a).toEqual(b);
    const names = container(a).env!.map((e) => e.name);
    expect(names).toEqual([...names].sort());
  });

  it('adds the runtime class, node selector and tolerations only when configured', () => {
    expect(podSpec.runtimeClassName).toBeUndefined();
    expect(podSpec.nodeSelector).toBeUndefined();
    expect(podSpec.tolerations).toBeUndefined();
    const sandboxed = buildRunnerJob(spec, {
      ...config,
      runtimeClassName: 'gvisor',
      nodeSelector: { 'sandbox.gke.io/runtime': 'gvisor' },
      tolerations: [{ key: 'sandbox.gke.io/runtime', operator: 'Equal', value: 'gvisor', effect: 'NoSchedule' }],
    });
    validate(sandboxed);
    expect(sandboxed.spec!.template.spec).toMatchObject({
      runtimeClassName: 'gvisor',
      nodeSelector: { 'sandbox.gke.io/runtime': 'gvisor' },
      tolerations: [{ key: 'sandbox.gke.io/runtime', operator: 'Equal', value: 'gvisor', effect: 'NoSchedule' }],
    });
  });

  it('refuses a deadline that is not a positive whole number of seconds', () => {
    for (const deadlineSeconds of [0, -5, 1.5, Number.NaN]) {
      expect(() => buildRunnerJob({ ...spec, deadlineSeconds }, config)).toThrow(/deadlineSeconds/);
    }
  });
});
