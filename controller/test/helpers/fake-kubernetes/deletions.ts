import type { ObjectStore } from './object-store.js';
import { kubeTime, type FakeJob, type FakePod } from './types.js';

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

const FOREGROUND = 'foregroundDeletion';

/**
 * Deletion as the apiserver and the garbage collector do it. Pods are deleted gracefully: they get a
 * deletionTimestamp and the kubelet removes them once their containers stopped. A Job's Pods are deleted only
 * with Background or Foreground propagation; Orphan (the default for batch/v1 Jobs) leaves them running.
 */
export class Deletions {
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    // Foreground: the Job goes once the last of its Pods is gone.
    this.unsubscribe = store.subscribe((event) => {
      if (event.type === 'DELETED' && event.object.kind === 'Pod') {
        const namespace = event.object.metadata.namespace;
        setImmediate(() => this.finishForegroundDeletions(namespace));
      }
    });
  }

  /** Graceful deletion: deletionTimestamp = now + grace period; a Pod on no node goes at once. */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): FakePod | undefined {
    const pod = this.store.get<FakePod>('Pod', namespace, name);
    if (!pod) return undefined;
    if (pod.metadata.deletionTimestamp) return pod;
    if (!pod.spec?.nodeName) return this.store.remove<FakePod>('Pod', namespace, name);
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    return this.store.update<FakePod>('Pod', namespace, name, (p) => {
      p.metadata.deletionTimestamp = kubeTime(new Date(Date.now() + grace * 1000));
      p.metadata.deletionGracePeriodSeconds = grace;
    });
  }

  /** Returns the Job as it was (Background, Orphan) or as it now is, being deleted (Foreground). */
  deleteJob(namespace: string, name: string, policy: PropagationPolicy): FakeJob | undefined {
    const job = this.store.get<FakeJob>('Job', namespace, name);
    if (!job) return undefined;
    if (policy === 'Foreground') {
      const deleting = this.store.update<FakeJob>('Job', namespace, name, (j) => {
        j.metadata.deletionTimestamp ??= kubeTime();
        j.metadata.deletionGracePeriodSeconds = 0;
        j.metadata.finalizers = [...new Set([...(j.metadata.finalizers ?? []), FOREGROUND])];
      });
      for (const pod of this.podsOf(job)) this.deletePod(namespace, pod.metadata.name);
      setImmediate(() => this.finishForegroundDeletions(namespace));
      return deleting;
    }
    this.store.remove<FakeJob>('Job', namespace, name);
    // The garbage collector acts on the Job's disappearance a moment later.
    setImmediate(() => {
      for (const pod of this.podsOf(job)) {
        if (policy === 'Background') this.deletePod(namespace, pod.metadata.name);
        else this.store.update<FakePod>('Pod', namespace, pod.metadata.name, (p) => delete p.metadata.ownerReferences);
      }
    });
    return job;
  }

  close(): void {
    this.unsubscribe();
  }

  podsOf(job: FakeJob): FakePod[] {
    return this.store
      .list<FakePod>('Pod', job.metadata.namespace)
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid));
  }

  private finishForegroundDeletions(namespace: string): void {
    for (const job of this.store.list<FakeJob>('Job', namespace)) {
      if (!job.metadata.finalizers?.includes(FOREGROUND)) continue;
      if (this.podsOf(job).length === 0) this.store.remove<FakeJob>('Job', namespace, job.metadata.name);
    }
  }
}
