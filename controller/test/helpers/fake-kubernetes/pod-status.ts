import { kubeTime, type FakePod } from './types.js';

type PodStatus = NonNullable<FakePod['status']>;
type ContainerState = NonNullable<NonNullable<PodStatus['containerStatuses']>[number]['state']>;
type Container = NonNullable<FakePod['spec']>['containers'][number];

/** Sets (or adds) one pod condition, keeping lastTransitionTime when the status does not change. */
export function setCondition(status: PodStatus, type: string, value: boolean, reason?: string): void {
  const conditions = (status.conditions ??= []);
  const text = value ? 'True' : 'False';
  const existing = conditions.find((c) => c.type === type);
  if (existing) {
    if (existing.status !== text) existing.lastTransitionTime = kubeTime();
    existing.status = text;
    if (reason) existing.reason = reason;
    else delete existing.reason;
    return;
  }
  conditions.push({ type, status: text, lastTransitionTime: kubeTime(), ...(reason ? { reason } : {}) });
}

/** The single container's status entry. */
export function setContainerState(status: PodStatus, container: Container, state: ContainerState, flags: { ready: boolean; started: boolean }, containerID?: string): void {
  status.containerStatuses = [
    {
      name: container.name,
      image: container.image ?? '',
      imageID: containerID ? `docker.io/library/${container.image}@sha256:${'0'.repeat(64)}` : '',
      ...(containerID ? { containerID: `containerd://${containerID}` } : {}),
      ready: flags.ready,
      started: flags.started,
      restartCount: 0,
      state,
      lastState: {},
    },
  ];
}

/** Ready and ContainersReady move together for a one-container pod. */
export function setReady(status: PodStatus, ready: boolean, reason?: string): void {
  setCondition(status, 'Ready', ready, ready ? undefined : (reason ?? 'ContainersNotReady'));
  setCondition(status, 'ContainersReady', ready, ready ? undefined : (reason ?? 'ContainersNotReady'));
  const entry = status.containerStatuses?.[0];
  if (entry) entry.ready = ready;
}
