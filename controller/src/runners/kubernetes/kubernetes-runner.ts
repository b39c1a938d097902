import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  RunnerUnavailableError,
  type RunnerBackend,
  type RunnerEvent,
  type RunnerEventListener,
  type RunnerSnapshot,
  type RunnerSpec,
} from '../runner-backend.js';
import { apiErrorMessage, apiStatusCode, describeApiError, isApiUnavailable } from './api-errors.js';
import { buildRunnerJob } from './job-manifest.js';
import type { KubernetesRunnerConfig } from './kubernetes-config.js';
import { PodWatch, type PodChange } from './pod-watch.js';
import { DEFAULT_RETRY_DELAY, RetryDelay, type RetryDelayOptions } from './retry-delay.js';
import { runnerJobName, runnerLabelSelector, sessionIdOf } from './runner-labels.js';
import { POD_DELETED_REASON, eventForVanishedPod, eventFromJob, readRunnerPod, type PodReading } from './runner-state.js';

export interface KubernetesRunnerOptions {
  /** In-cluster, from KUBECONFIG, or the tests' fake cluster: the caller decides. */
  kubeConfig: KubeConfig;
  config: KubernetesRunnerConfig;
  logger: Logger;
  /** Delays between retries of the Pod watch and of Job reads (default 100 ms doubling up to 5 s). */
  retry?: RetryDelayOptions;
}

/** Sessions run as batch/v1 Jobs; their Pods are watched to follow each session's runner. */
export function createKubernetesRunner(options: KubernetesRunnerOptions): RunnerBackend {
  return new KubernetesRunner(options);
}

class KubernetesRunner implements RunnerBackend {
  readonly kind = 'kubernetes' as const;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly config: KubernetesRunnerConfig;
  private readonly log: Logger;
  private readonly retry: RetryDelayOptions;
  private readonly selector: string;
  private watch?: PodWatch;
  private listener?: RunnerEventListener;
  private closed = false;
  /** Sessions whose Job is being deleted because their container can never start: one DELETE each. */
  private readonly stopping = new Set<string>();
  private readonly pendingWaits = new Set<RetryDelay>();

  constructor(private readonly options: KubernetesRunnerOptions) {
    this.config = options.config;
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.log = options.logger.child({ component: 'kubernetes-runner', namespace: options.config.namespace });
    this.retry = options.retry ?? DEFAULT_RETRY_DELAY;
    this.selector = runnerLabelSelector(options.config.instance);
  }

  async start(listener: RunnerEventListener): Promise<void> {
    if (this.watch) throw new Error('the Kubernetes runner backend is already started');
    this.listener = listener;
    this.watch = new PodWatch({
      kubeConfig: this.options.kubeConfig,
      namespace: this.config.namespace,
      labelSelector: this.selector,
      logger: this.log,
      retry: this.retry,
      onPod: (change, pod) => this.onPod(change, pod),
    });
    await this.watch.start();
  }

  async launch(spec: RunnerSpec): Promise<{ runnerName: string }> {
    const body = buildRunnerJob(spec, this.config);
    const runnerName = body.metadata!.name!;
    try {
      await this.batch.createNamespacedJob({ namespace: this.config.namespace, body });
      this.log.info({ sessionId: spec.sessionId, job: runnerName }, 'runner job created');
    } catch (err) {
      // The same session launched again (a retry, another replica): its Job is the one it already has.
      if (apiStatusCode(err) === 409) {
        this.log.info({ sessionId: spec.sessionId, job: runnerName }, 'runner job already exists');
        return { runnerName };
      }
      throw this.failure(`creating runner Job ${runnerName}`, err);
    }
    return { runnerName };
  }

  async cancel(sessionId: string): Promise<void> {
    try {
      await this.deleteJob(sessionId);
    } catch (err) {
      throw this.failure(`deleting runner Job ${runnerJobName(sessionId)}`, err);
    }
  }

  async list(): Promise<RunnerSnapshot[]> {
    const namespace = this.config.namespace;
    let jobs: V1Job[];
    let pods: V1Pod[];
    try {
      [jobs, pods] = await Promise.all([
        this.batch.listNamespacedJob({ namespace, labelSelector: this.selector }).then((l) => l.items),
        this.core.listNamespacedPod({ namespace, labelSelector: this.selector }).then((l) => l.items),
      ]);
    } catch (err) {
      throw this.failure('listing runner Jobs and Pods', err);
    }
    const newestPod = new Map<string, V1Pod>();
    for (const pod of pods) {
      const sessionId = sessionIdOf(pod.metadata?.labels);
      if (!sessionId) continue;
      const current = newestPod.get(sessionId);
      if (!current || createdAt(pod) > createdAt(current)) newestPod.set(sessionId, pod);
    }
    const snapshots: RunnerSnapshot[] = [];
    for (const job of jobs) {
      const sessionId = sessionIdOf(job.metadata?.labels);
      if (!sessionId) continue;
      const pod = newestPod.get(sessionId);
      const reading = pod ? readRunnerPod(pod, this.config.port) : undefined;
      const event = reading ? (reading.event ?? eventForVanishedPod(reading, job)) : eventFromJob(job, sessionId);
      snapshots.push({ ...event, createdAt: new Date(createdAt(job)) });
    }
    return snapshots;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watch?.close();
    for (const wait of this.pendingWaits) wait.cancel();
  }

  private onPod(change: PodChange, pod: V1Pod): void {
    if (this.closed) return;
    const reading = readRunnerPod(pod, this.config.port, change === 'DELETED');
    if (!reading) return;
    if (reading.neverStarts && !pod.metadata?.deletionTimestamp && change !== 'DELETED') this.stopNeverStarting(reading);
    if (reading.event) this.emit(reading.event);
    else void this.explainVanishedPod(reading);
  }

  /** The Pod is going away without having ended by itself: its Job says whether that was a cancel or the deadline. */
  private async explainVanishedPod(reading: PodReading): Promise<void> {
    const job = await this.untilDone(`reading runner Job ${reading.runnerName}`, () => this.readJob(reading.runnerName));
    // Unreadable for good (e.g. forbidden): the Pod is gone all the same.
    if (job === null) this.emit({ sessionId: reading.sessionId, runnerName: reading.runnerName, state: 'failed', reason: POD_DELETED_REASON });
    else this.emit(eventForVanishedPod(reading, job));
  }

  /** Deletes the Job of a runner whose image cannot be pulled, rather than leaving it pending until its deadline. */
  private stopNeverStarting(reading: PodReading): void {
    if (this.stopping.has(reading.sessionId)) return;
    this.stopping.add(reading.sessionId);
    this.log.warn({ sessionId: reading.sessionId, reason: reading.event?.reason }, 'runner can never start; deleting its job');
    void this.untilDone(`deleting runner Job ${reading.runnerName}`, () => this.deleteJob(reading.sessionId)).finally(() =>
      this.stopping.delete(reading.sessionId),
    );
  }

  private async readJob(name: string): Promise<V1Job | undefined> {
    try {
      return await this.batch.readNamespacedJob({ name, namespace: this.config.namespace });
    } catch (err) {
      if (apiStatusCode(err) === 404) return undefined;
      throw err;
    }
  }

  /** Background propagation: without it the Job's Pods are orphaned and keep running. */
  private async deleteJob(sessionId: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({
        name: runnerJobName(sessionId),
        namespace: this.config.namespace,
        propagationPolicy: 'Background',
      });
      this.log.info({ sessionId }, 'runner job deleted');
    } catch (err) {
      if (apiStatusCode(err) !== 404) throw err;
    }
  }

  /**
   * Retries an API call made on behalf of the watch (nobody awaits it) while the API is unavailable; resolves
   * null when the backend closes or the API refuses for good.
   */
  private async untilDone<T>(what: string, call: () => Promise<T>): Promise<T | null> {
    const delay = new RetryDelay(this.retry);
    this.pendingWaits.add(delay);
    try {
      while (!this.closed) {
        try {
          return await call();
        } catch (err) {
          if (!isApiUnavailable(err)) {
            this.log.error({ err: describeApiError(err) }, `${what} failed`);
            return null;
          }
          this.log.warn({ err: describeApiError(err) }, `${what} failed; retrying`);
          await delay.wait();
        }
      }
      return null;
    } finally {
      this.pendingWaits.delete(delay);
    }
  }

  private failure(what: string, err: unknown): Error {
    const status = apiStatusCode(err);
    const message = apiErrorMessage(err);
    if (isApiUnavailable(err)) {
      const answer = status === undefined ? 'unreachable' : `unavailable (HTTP ${status})`;
      return new RunnerUnavailableError(`${what}: the Kubernetes API is ${answer}: ${message}`);
    }
    return new Error(`${what}: the Kubernetes API refused (HTTP ${status}): ${message}`);
  }

  private emit(event: RunnerEvent): void {
    if (this.closed || !this.listener) return;
    try {
      this.listener(event);
    } catch (err) {
      this.log.error({ err, sessionId: event.sessionId }, 'runner event listener threw');
    }
  }
}

function createdAt(object: V1Job | V1Pod): number {
  const value = object.metadata?.creationTimestamp as Date | string | undefined;
  return value ? new Date(value).getTime() : 0;
}
