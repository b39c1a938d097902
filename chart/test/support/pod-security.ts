import type { V1PodSpec } from '@kubernetes/client-node';

/** Volume types Pod Security `restricted` allows. */
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * What would make a pod fail Pod Security `restricted` (the runner namespace enforces it), plus this
 * project's own rules: an explicit non-zero user (never the image's default, which may be root) and a
 * read-only root filesystem. Empty when the pod passes.
 */
export function podSecurityProblems(spec: V1PodSpec): string[] {
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push('uses a host namespace');
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUMES.includes(type)) problems.push(`volume ${volume.name} is of type ${type}`);
  }
  const podSeccomp = pod.seccompProfile?.type;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    const name = `container ${c.name}`;
    if (sc.privileged) problems.push(`${name} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${name} allows privilege escalation`);
    if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${name} does not drop ALL capabilities`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${name} adds capabilities ${added.join(', ')}`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${name} is not runAsNonRoot`);
    const user = sc.runAsUser ?? pod.runAsUser;
    if (user === undefined || user === 0) problems.push(`${name} runs as user ${user ?? "the image's default"}`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${name} has seccomp profile ${seccomp}`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${name} has a writable root filesystem`);
    if ((c.ports ?? []).some((p) => p.hostPort)) problems.push(`${name} uses a host port`);
  }
  return problems;
}
