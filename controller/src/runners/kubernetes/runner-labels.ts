/**
 * The labels that identify runner Jobs and Pods. The one place they are spelled: the backend selects with
 * them, and the Helm chart's NetworkPolicy is tested against them.
 */

export const RUNNER_NAME_LABEL = 'app.kubernetes.io/name';
export const RUNNER_COMPONENT_LABEL = 'app.kubernetes.io/component';
export const RUNNER_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const RUNNER_INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const SESSION_ID_LABEL = 'cliscale.dev/session-id';

export const RUNNER_NAME = 'cliscale-runner';
export const RUNNER_COMPONENT = 'runner';
export const RUNNER_MANAGER = 'cliscale-controller';

/** Labels on a runner Job and on its Pod template. */
export function runnerLabels(instance: string, sessionId: string): Record<string, string> {
  return {
    [RUNNER_NAME_LABEL]: RUNNER_NAME,
    [RUNNER_COMPONENT_LABEL]: RUNNER_COMPONENT,
    [RUNNER_MANAGED_BY_LABEL]: RUNNER_MANAGER,
    [RUNNER_INSTANCE_LABEL]: instance,
    [SESSION_ID_LABEL]: sessionId,
  };
}

/**
 * Labels every runner of one install carries whatever its session (for a NetworkPolicy podSelector or a
 * Kubernetes label selector).
 */
export function runnerSelectorLabels(instance: string): Record<string, string> {
  return { [RUNNER_MANAGED_BY_LABEL]: RUNNER_MANAGER, [RUNNER_INSTANCE_LABEL]: instance };
}

/** The same as a `labelSelector` query value: `k=v,k=v`. */
export function runnerLabelSelector(instance: string): string {
  return Object.entries(runnerSelectorLabels(instance))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The Job of a session. Session ids are lowercase UUIDs, so this is a valid 45-character DNS label. */
export function runnerJobName(sessionId: string): string {
  return `cliscale-${sessionId}`;
}

/** The session a Job or Pod belongs to, from its labels; undefined for objects that are not ours. */
export function sessionIdOf(labels: Record<string, string> | undefined): string | undefined {
  const id = labels?.[SESSION_ID_LABEL];
  return id ? id : undefined;
}
