import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import type { RunnerSpec } from '../runner-backend.js';
import { runnerEnvironment, TERMINATION_MESSAGE_PATH } from '@cliscale/runner-contract';
import type { KubernetesRunnerConfig } from './kubernetes-config.js';
import { runnerJobName, runnerLabels } from './runner-labels.js';

export const RUNNER_CONTAINER_NAME = 'supervisor';
export const RUNNER_PORT_NAME = 'tty';
/** emptyDir for the code and the home folder: the only writable place besides /tmp (the root filesystem is read-only). */
export const WORKSPACE_MOUNT_PATH = '/workspace';
export const TMP_MOUNT_PATH = '/tmp';

/**
 * The part of the supervisor's environment the backend owns. A caller's variable with one of these names is
 * dropped: the pod must listen where the probe and the gateway look, and write only where volumes are.
 */
export function runnerContractEnv(config: KubernetesRunnerConfig): Record<string, string> {
  return {
    ...runnerEnvironment({
      port: config.port,
      host: '0.0.0.0',
      exitOnJob: true,
      // The gateway enforces view-only tokens; the supervisor itself accepts input.
      writable: true,
      codeDir: `${WORKSPACE_MOUNT_PATH}/code`,
      // The supervisor's one-line outcome ("fetch failed: ...") reaches the pod's status through this file.
      terminationMessagePath: TERMINATION_MESSAGE_PATH,
    }),
    HOME: `${WORKSPACE_MOUNT_PATH}/home`,
    TMPDIR: TMP_MOUNT_PATH,
    npm_config_cache: `${WORKSPACE_MOUNT_PATH}/home/.npm`,
  };
}

/**
 * The batch/v1 Job that runs one session's supervisor. Pure: the same spec and config give the same object.
 * User values only ever appear as env values (the image's entrypoint is the supervisor; there is no shell).
 */
export function buildRunnerJob(spec: RunnerSpec, config: KubernetesRunnerConfig): V1Job {
  if (!Number.isInteger(spec.deadlineSeconds) || spec.deadlineSeconds < 1) {
    throw new Error(`deadlineSeconds must be a positive integer, got ${spec.deadlineSeconds}`);
  }
  const labels = runnerLabels(config.instance, spec.sessionId);
  const fixed = runnerContractEnv(config);
  const env: V1EnvVar[] = Object.entries({ ...spec.env, ...fixed })
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: runnerJobName(spec.sessionId), namespace: config.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: spec.deadlineSeconds,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          restartPolicy: 'Never',
          // On the pod too, so the kubelet marks the Pod itself DeadlineExceeded (seen by the Pod watch).
          activeDeadlineSeconds: spec.deadlineSeconds,
          serviceAccountName: config.serviceAccountName,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(config.runtimeClassName ? { runtimeClassName: config.runtimeClassName } : {}),
          ...(config.nodeSelector ? { nodeSelector: { ...config.nodeSelector } } : {}),
          ...(config.tolerations ? { tolerations: config.tolerations.map((t) => ({ ...t })) } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: config.runAsUser,
            runAsGroup: config.runAsUser,
            fsGroup: config.runAsUser,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: RUNNER_CONTAINER_NAME,
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              // Without a code URL the command runs in its working directory, which must be writable.
              workingDir: WORKSPACE_MOUNT_PATH,
              ports: [{ name: RUNNER_PORT_NAME, containerPort: config.port, protocol: 'TCP' }],
              env,
              terminationMessagePath: TERMINATION_MESSAGE_PATH,
              // A supervisor that died before writing its message leaves the tail of its log instead.
              terminationMessagePolicy: 'FallbackToLogsOnError',
              resources: { requests: { ...config.resources.requests }, limits: { ...config.resources.limits } },
              readinessProbe: {
                httpGet: { path: '/healthz', port: RUNNER_PORT_NAME },
                periodSeconds: 1,
                timeoutSeconds: 1,
                successThreshold: 1,
                failureThreshold: 3,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'workspace', mountPath: WORKSPACE_MOUNT_PATH },
                { name: 'tmp', mountPath: TMP_MOUNT_PATH },
              ],
            },
          ],
          volumes: [
            { name: 'workspace', emptyDir: { sizeLimit: config.workspaceSizeLimit } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}
