/** How the Kubernetes backend shapes runner Jobs. The Helm chart fills it in; tests use the defaults. */
export interface KubernetesRunnerConfig {
  /** Where runner Jobs live. */
  namespace: string;
  /** Runner image: the supervisor is its entrypoint, so the Job needs no command or args. */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** Runner service account; its token is never mounted. */
  serviceAccountName: string;
  /** `app.kubernetes.io/instance` (the Helm release): two installs in one namespace never see each other's runners. */
  instance: string;
  /** Supervisor port. */
  port: number;
  ttlSecondsAfterFinished: number;
  /** cpu, memory, ephemeral-storage. */
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** emptyDir sizeLimit of the volume holding the code and the home folder. */
  workspaceSizeLimit: string;
  runAsUser: number;
  /** e.g. `gvisor`. */
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Array<{ key?: string; operator?: string; value?: string; effect?: string }>;
}

export const defaultKubernetesRunnerConfig: KubernetesRunnerConfig = {
  namespace: 'cliscale-runners',
  image: 'cliscale-runner:latest',
  imagePullPolicy: 'IfNotPresent',
  serviceAccountName: 'cliscale-runner',
  instance: 'cliscale',
  port: 7681,
  ttlSecondsAfterFinished: 300,
  resources: {
    requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
    limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '4Gi' },
  },
  workspaceSizeLimit: '2Gi',
  runAsUser: 1001,
};
