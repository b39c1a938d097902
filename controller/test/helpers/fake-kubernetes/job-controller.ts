import { randomInt } from 'node:crypto';
import type { Deletions } from './deletions.js';
import type { ObjectStore, StoreEvent } from './object-store.js';
import { kubeTime, type FakeJob, type FakePod, type NewObject } from './types.js';

type JobCondition = NonNullable<NonNullable<FakeJob['status']>['conditions']>[number];

/** The characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function nameSuffix(): string {
  return Array.from({ length: 5 }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('');
}

function condition(type: string, reason: string, message: string): JobCondition {
  const now = kubeTime();
  return { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now };
}

/**
 * The job controller, for Jobs like the runner's (one completion, backoffLimit 0): creates the Job's Pod,
 * mirrors the Pod into the Job's status and conditions, enforces the Job's activeDeadlineSeconds, and deletes
 * finished Jobs after ttlSecondsAfterFinished (the TTL controller). Acts a moment after each change, as the
 * real one does from its watch.
 */
export class FakeJobController {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly deletions: Deletions,
  ) {
    this.unsubscribe = store.subscribe((event) => setImmediate(() => this.onChange(event)));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private onChange(event: StoreEvent): void {
    if (this.closed) return;
    const { object } = event;
    if (object.kind === 'Job') {
      if (event.type === 'ADDED') this.startJob(object);
      if (event.type === 'DELETED') this.clearTimer(object.metadata.uid);
      return;
    }
    const owner = object.metadata.ownerReferences?.find((o) => o.kind === 'Job' && o.controller);
    if (owner) this.syncJob(object.metadata.namespace, owner.name);
  }

  private startJob(job: FakeJob): void {
    const { namespace, name, uid } = job.metadata;
    const template = job.spec!.template;
    const pod: NewObject<FakePod> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-${nameSuffix()}`,
        generateName: `${name}-`,
        namespace,
        // The apiserver already added job-name and controller-uid (both spellings) to the template's labels.
        labels: { ...template.metadata?.labels },
        annotations: { 'batch.kubernetes.io/job-tracking': '' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(template.spec!),
      status: { phase: 'Pending', qosClass: 'Burstable' },
    };
    this.store.create<FakePod>(pod);
    const startTime = kubeTime();
    this.store.update<FakeJob>('Job', namespace, name, (j) => (j.status = { ...j.status, startTime, active: 1, ready: 0 }));
    const deadline = job.spec?.activeDeadlineSeconds;
    if (deadline !== undefined) this.setTimer(uid, deadline * 1000, () => this.expire(namespace, name));
  }

  /** Level-triggered: looks at the Job's Pod as it is now, whatever change brought us here. */
  private syncJob(namespace: string, name: string): void {
    const job = this.store.get<FakeJob>('Job', namespace, name);
    if (!job || job.metadata.deletionTimestamp || isFinished(job)) return;
    const pod = this.deletions.podsOf(job)[0];
    const phase = pod?.status?.phase;
    if (phase === 'Succeeded') {
      this.finish(job, { succeeded: 1 }, [
        condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
        condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
      ]);
    } else if (phase === 'Failed' || (!pod && job.status?.active)) {
      // backoffLimit 0: the first failed (or vanished) Pod fails the Job.
      this.finish(job, { failed: 1 }, [
        condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
        condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
      ]);
    } else if (pod) {
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0;
      if (job.status?.ready !== ready) this.store.update<FakeJob>('Job', namespace, name, (j) => (j.status = { ...j.status, ready }));
    }
  }

  private expire(namespace: string, name: string): void {
    const job = this.store.get<FakeJob>('Job', namespace, name);
    if (!job || job.metadata.deletionTimestamp || isFinished(job)) return;
    const active = this.deletions.podsOf(job).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    this.finish(job, { failed: active.length }, [
      condition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
      condition('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
    ]);
    for (const pod of active) this.deletions.deletePod(namespace, pod.metadata.name);
  }

  private finish(job: FakeJob, counts: { succeeded?: number; failed?: number }, conditions: JobCondition[]): void {
    const { namespace, name, uid } = job.metadata;
    this.store.update<FakeJob>('Job', namespace, name, (j) => {
      j.status = { ...j.status, ...counts, active: 0, ready: 0, conditions: [...(j.status?.conditions ?? []), ...conditions] };
      if (counts.succeeded) j.status.completionTime = kubeTime();
    });
    this.clearTimer(uid);
    const ttl = job.spec?.ttlSecondsAfterFinished;
    // The TTL controller deletes with foreground propagation.
    if (ttl !== undefined) this.setTimer(uid, ttl * 1000, () => this.deletions.deleteJob(namespace, name, 'Foreground'));
  }

  private setTimer(uid: string, ms: number, run: () => void): void {
    this.clearTimer(uid);
    const timer = setTimeout(() => {
      this.timers.delete(uid);
      if (!this.closed) run();
    }, ms);
    timer.unref();
    this.timers.set(uid, timer);
  }

  private clearTimer(uid: string): void {
    clearTimeout(this.timers.get(uid));
    this.timers.delete(uid);
  }
}

function isFinished(job: FakeJob): boolean {
  return Boolean(job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'));
}
