import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { defaultKubernetesRunnerConfig, type KubernetesRunnerConfig } from '../../../src/runners/kubernetes/kubernetes-config.js';
import { createKubernetesRunner } from '../../../src/runners/kubernetes/kubernetes-runner.js';
import { SESSION_ID_LABEL } from '../../../src/runners/kubernetes/runner-labels.js';
import type { RunnerBackend } from '../../../src/runners/runner-backend.js';
import { FakeCluster, type FakeClusterOptions } from '../../helpers/fake-kubernetes/fake-cluster.js';
import type { FakeJob, FakePod } from '../../helpers/fake-kubernetes/types.js';
import { RunnerEventLog } from './runner-events.js';

export const TEST_CONFIG: KubernetesRunnerConfig = { ...defaultKubernetesRunnerConfig, instance: 'test' };

export interface StartedRunner {
  backend: RunnerBackend;
  events: RunnerEventLog;
}

/**
 * One fake cluster per test file (beforeAll/afterAll), and Kubernetes backends on it that are all closed
 * before the cluster is (which kills every container process).
 */
export function useFakeCluster(options: FakeClusterOptions = {}) {
  let cluster: FakeCluster | undefined;
  const backends: RunnerBackend[] = [];
  beforeAll(async () => {
    cluster = await FakeCluster.start(options);
  });
  afterAll(async () => {
    await Promise.all(backends.splice(0).map((b) => b.close()));
    await cluster?.close();
  });

  const fixture = {
    get cluster(): FakeCluster {
      if (!cluster) throw new Error('the fake cluster starts in beforeAll');
      return cluster;
    },

    /** A backend (not started): for calls that must fail before anything is watched. */
    backend(config: Partial<KubernetesRunnerConfig> = {}, kubeConfig?: KubeConfig): RunnerBackend {
      const backend = createKubernetesRunner({
        kubeConfig: kubeConfig ?? fixture.cluster.kubeConfig(),
        config: { ...TEST_CONFIG, ...config },
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        retry: { initialMs: 50, maxMs: 500 },
      });
      backends.push(backend);
      return backend;
    },

    /** A started backend and the log of everything it reported. */
    async runner(config: Partial<KubernetesRunnerConfig> = {}): Promise<StartedRunner> {
      const backend = fixture.backend(config);
      const events = new RunnerEventLog();
      await backend.start(events.listener);
      return { backend, events };
    },

    podOf(sessionId: string, namespace = TEST_CONFIG.namespace): FakePod | undefined {
      return fixture.cluster.store.list<FakePod>('Pod', namespace).find((p) => p.metadata.labels?.[SESSION_ID_LABEL] === sessionId);
    },

    jobOf(sessionId: string, namespace = TEST_CONFIG.namespace): FakeJob | undefined {
      return fixture.cluster.store.list<FakeJob>('Job', namespace).find((j) => j.metadata.labels?.[SESSION_ID_LABEL] === sessionId);
    },
  };
  return fixture;
}

/** True while a process runs: a zombie (killed, waiting for init to reap it) counts as dead. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
