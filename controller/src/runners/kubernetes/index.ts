export { createKubernetesRunner, type KubernetesRunnerOptions } from './kubernetes-runner.js';
export { defaultKubernetesRunnerConfig, type KubernetesRunnerConfig } from './kubernetes-config.js';
export { buildRunnerJob, runnerContractEnv } from './job-manifest.js';
export * from './runner-labels.js';
