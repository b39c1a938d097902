import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { RunnerEvent } from '../runner-backend.js';
import { terminationReason } from '@cliscale/runner-contract';
import { runnerJobName, sessionIdOf } from './runner-labels.js';

/**
 * What a runner Pod (and, when the Pod cannot tell, its Job) says about the session. Pure functions, so every
 * rule is unit-tested without a cluster.
 */

/** Waiting reasons after which the container never starts by itself: the Job is deleted rather than left to its deadline. */
const NEVER_STARTING: Record<string, string> = {
  ErrImagePull: 'image pull failed',
  ImagePullBackOff: 'image pull failed',
  InvalidImageName: 'image pull failed',
  CreateContainerConfigError: 'container configuration invalid',
};

export const DEADLINE_REASON = 'deadline exceeded';
export const OOM_REASON = 'out of memory (OOMKilled)';
export const RUNNER_DELETED_REASON = 'runner deleted';
export const POD_DELETED_REASON = 'runner pod deleted';

export interface PodReading {
  sessionId: string;
  runnerName: string;
  /** Absent when the Pod is going away without having ended by itself: only its Job knows why (see eventForVanishedPod). */
  event?: RunnerEvent;
  /** The container can never start (image pull failure...): delete the Job now. */
  neverStarts: boolean;
}

/** Timestamps are Dates in typed API responses and strings in watch events. */
function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Reads one runner Pod. `gone` is true for a DELETED watch event. Returns undefined for Pods that are not a
 * session's runner (no session label).
 */
export function readRunnerPod(pod: V1Pod, port: number, gone = false): PodReading | undefined {
  const labels = pod.metadata?.labels;
  const sessionId = sessionIdOf(labels);
  if (!sessionId) return undefined;
  const runnerName = labels?.['batch.kubernetes.io/job-name'] ?? labels?.['job-name'] ?? runnerJobName(sessionId);
  const status = pod.status ?? {};
  const podIP = status.podIP || undefined;
  const base: RunnerEvent = { sessionId, runnerName, state: 'starting' };
  const withEndpoint = (event: RunnerEvent): RunnerEvent => (podIP ? { ...event, endpoint: { host: podIP, port } } : event);
  const reading = (event: RunnerEvent | undefined, neverStarts = false): PodReading => ({ sessionId, runnerName, event, neverStarts });

  // The kubelet enforced the pod's own activeDeadlineSeconds (the container may show any exit code after that).
  if (status.reason === 'DeadlineExceeded') return reading(withEndpoint({ ...base, state: 'expired', reason: DEADLINE_REASON }));

  const container = status.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  // deletionTimestamp is when the grace period ends; the deletion was asked for that many seconds earlier.
  const deletesAt = timeOf(pod.metadata?.deletionTimestamp);
  const deletionAskedAt = deletesAt === undefined ? undefined : deletesAt - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  const finishedAt = timeOf(terminated?.finishedAt);
  // A container that stopped once its Pod was being deleted was stopped by the deletion, not by its command.
  const endedByItself = terminated && (deletionAskedAt === undefined || (finishedAt !== undefined && finishedAt < deletionAskedAt));
  if (terminated && endedByItself) {
    const exitCode = terminated.exitCode;
    if (terminated.reason === 'OOMKilled') return reading(withEndpoint({ ...base, state: 'failed', exitCode, reason: OOM_REASON }));
    if (exitCode === 0) return reading(withEndpoint({ ...base, state: 'succeeded', exitCode }));
    const unusual = terminated.reason && terminated.reason !== 'Error' && terminated.reason !== 'Completed';
    // The message is the supervisor's own account ("fetch failed: HTTP 404 ..."), written at exit.
    const reason = unusual ? [terminated.reason, terminated.message].filter(Boolean).join(': ') : terminationReason(terminated.message);
    return reading(withEndpoint({ ...base, state: 'failed', exitCode, ...(reason ? { reason } : {}) }));
  }

  const waiting = container?.state?.waiting;
  const neverStarting = waiting?.reason ? NEVER_STARTING[waiting.reason] : undefined;
  if (neverStarting) {
    const detail = waiting?.message || waiting?.reason;
    return reading({ ...base, state: 'failed', reason: `${neverStarting}: ${detail}` }, true);
  }

  if (gone || deletesAt !== undefined) return reading(undefined);

  // Rejected or evicted by the kubelet before the container ran.
  if (status.phase === 'Failed') {
    const reason = [status.reason, status.message].filter(Boolean).join(': ') || 'runner pod failed';
    return reading(withEndpoint({ ...base, state: 'failed', reason }));
  }

  // A Pod has its IP before the supervisor listens: only the Ready condition means reachable.
  const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready && podIP) return reading(withEndpoint({ ...base, state: 'running' }));
  return reading(base);
}

function jobCondition(job: V1Job, ...types: string[]) {
  return job.status?.conditions?.find((c) => types.includes(c.type) && c.status === 'True');
}

/** Why a Pod went away without its container ending by itself, from its Job (undefined when the Job is gone). */
export function eventForVanishedPod(reading: PodReading, job: V1Job | undefined): RunnerEvent {
  const base = { sessionId: reading.sessionId, runnerName: reading.runnerName };
  if (!job || job.metadata?.deletionTimestamp) return { ...base, state: 'cancelled', reason: RUNNER_DELETED_REASON };
  // Newer job controllers set FailureTarget before deleting the Pods, Failed only once they are gone.
  if (jobCondition(job, 'Failed', 'FailureTarget')?.reason === 'DeadlineExceeded') {
    return { ...base, state: 'expired', reason: DEADLINE_REASON };
  }
  return { ...base, state: 'failed', reason: POD_DELETED_REASON };
}

/** A runner Job's state when it has no Pod (not created yet, or already gone). */
export function eventFromJob(job: V1Job, sessionId: string): RunnerEvent {
  const base = { sessionId, runnerName: job.metadata?.name ?? runnerJobName(sessionId) };
  if (job.metadata?.deletionTimestamp) return { ...base, state: 'cancelled', reason: RUNNER_DELETED_REASON };
  if (jobCondition(job, 'Complete', 'SuccessCriteriaMet')) return { ...base, state: 'succeeded', exitCode: 0 };
  const failed = jobCondition(job, 'Failed', 'FailureTarget');
  if (failed?.reason === 'DeadlineExceeded') return { ...base, state: 'expired', reason: DEADLINE_REASON };
  if (failed) return { ...base, state: 'failed', reason: `runner failed (${failed.reason ?? 'unknown reason'})` };
  return { ...base, state: 'starting' };
}
