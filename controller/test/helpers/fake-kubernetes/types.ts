import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';

/** Objects as the apiserver stores and serves them: JSON, timestamps as RFC 3339 strings. */
export type ObjectMeta = NonNullable<IPod['metadata']> & { name: string; namespace: string; uid: string; resourceVersion: string };
export type FakeJob = Omit<IJob, 'metadata'> & { metadata: ObjectMeta };
export type FakePod = Omit<IPod, 'metadata'> & { metadata: ObjectMeta };
export type FakeObject = FakeJob | FakePod;
export type Kind = FakeObject['kind'];

/** What callers hand to `create`: the server fills in uid, resourceVersion, creationTimestamp. */
export type NewObject<T extends FakeObject> = Omit<T, 'metadata'> & { metadata: Omit<ObjectMeta, 'uid' | 'resourceVersion'> & { uid?: string } };

/** Kubernetes serializes times with second precision. */
export function kubeTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type FakeContainer = NonNullable<FakePod['spec']>['containers'][number];
export type FakePodSpec = NonNullable<FakePod['spec']>;
