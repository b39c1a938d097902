import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createKubernetesRunner, type KubernetesRunnerConfig } from './kubernetes/index.js';
import type { RunnerBackend } from './runner-backend.js';

/**
 * The production backend: in a pod, the service account's in-cluster credentials; elsewhere, KUBECONFIG
 * or ~/.kube/config (client-node's loadFromDefault order).
 */
export function createKubernetesBackend(config: KubernetesRunnerConfig, logger: Logger): RunnerBackend {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return createKubernetesRunner({ kubeConfig, config, logger });
}
