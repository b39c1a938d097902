import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiStatusCode, describeApiError } from './api-errors.js';
import { RetryDelay, type RetryDelayOptions } from './retry-delay.js';

export type PodChange = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  labelSelector: string;
  logger: Logger;
  retry: RetryDelayOptions;
  onPod: (change: PodChange, pod: V1Pod) => void;
}

interface WatchOutcome {
  events: number;
  gone: boolean;
  error?: unknown;
}

const WATCH_TIMEOUT_SECONDS = 25;

/** A watch that delivered something, or stayed open this long, was healthy: the next retry starts fast again. */
const HEALTHY_WATCH_MS = 10_000;

/**
 * List-then-watch of the runner Pods, like an informer: every change is delivered at least once whatever
 * happens to the connection. A watch that ends is resumed from the last resourceVersion seen (bookmarks
 * included); when the server no longer has that version (410 Gone) the Pods are listed again, and Pods
 * that vanished meanwhile are reported as DELETED.
 */
export class PodWatch {
  private readonly core: CoreV1Api;
  private readonly retry: RetryDelay;
  /** Last state of every Pod, by uid: a relist compares against it to notice deletions it missed. */
  private readonly known = new Map<string, V1Pod>();
  private resourceVersion?: string;
  private closed = false;
  private abort?: AbortController;
  private established?: () => void;

  constructor(private readonly options: PodWatchOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.retry = new RetryDelay(options.retry);
  }

  /** Resolves after the first successful list, once the watch is open; retries (logging) until then. */
  start(): Promise<void> {
    const started = new Promise<void>((resolve) => (this.established = resolve));
    void this.run();
    return started;
  }

  close(): void {
    this.closed = true;
    this.retry.cancel();
    this.abort?.abort();
    this.established?.();
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.closed) {
      if (needList) {
        if (!(await this.relist())) {
          await this.retry.wait();
          continue;
        }
        needList = false;
      }
      const startedAt = Date.now();
      const outcome = await this.watchOnce();
      if (this.closed) break;
      if (outcome.events > 0 || Date.now() - startedAt > HEALTHY_WATCH_MS) this.retry.reset();
      if (outcome.gone) {
        this.options.logger.info({ resourceVersion: this.resourceVersion }, 'pod watch: resourceVersion expired (410), listing again');
        needList = true;
      } else if (outcome.error) {
        this.options.logger.warn({ err: describeApiError(outcome.error) }, 'pod watch ended with an error; resuming');
      } else {
        this.options.logger.debug({ resourceVersion: this.resourceVersion }, 'pod watch closed by the server; resuming');
      }
      await this.retry.wait();
    }
  }

  private async relist(): Promise<boolean> {
    const { namespace, labelSelector, logger } = this.options;
    let items: V1Pod[];
    let resourceVersion: string | undefined;
    try {
      const list = await this.core.listNamespacedPod({ namespace, labelSelector });
      items = list.items;
      resourceVersion = list.metadata?.resourceVersion;
    } catch (err) {
      logger.warn({ err: describeApiError(err) }, 'listing runner pods failed; retrying');
      return false;
    }
    const present = new Set<string>();
    for (const pod of items) {
      const key = podKey(pod);
      present.add(key);
      const change: PodChange = this.known.has(key) ? 'MODIFIED' : 'ADDED';
      this.known.set(key, pod);
      this.deliver(change, pod);
    }
    for (const [key, pod] of this.known) {
      if (present.has(key)) continue;
      this.known.delete(key);
      this.deliver('DELETED', pod);
    }
    this.resourceVersion = resourceVersion;
    return true;
  }

  /** One watch request, from the current resourceVersion; resolves when it ends for whatever reason. */
  private watchOnce(): Promise<WatchOutcome> {
    const { kubeConfig, namespace, labelSelector, logger } = this.options;
    const outcome: WatchOutcome = { events: 0, gone: false };
    return new Promise((resolve) => {
      const onEvent = (type: string, object: unknown) => {
        outcome.events++;
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string } | undefined;
          if (status?.code === 410) outcome.gone = true;
          else logger.warn({ status: status?.code, message: status?.message }, 'pod watch: error event');
          this.abort?.abort();
          return;
        }
        const pod = object as V1Pod;
        const version = pod.metadata?.resourceVersion;
        if (version) this.resourceVersion = version;
        if (type === 'BOOKMARK') return;
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        if (type === 'DELETED') this.known.delete(podKey(pod));
        else this.known.set(podKey(pod), pod);
        this.deliver(type, pod);
      };
      const onDone = (err: unknown) => {
        if (apiStatusCode(err) === 410) outcome.gone = true;
        resolve(err ? { ...outcome, error: err } : outcome);
      };
      const query = {
        labelSelector,
        allowWatchBookmarks: true,
        // client-node aborts a watch silent for 30 s; apiservers send bookmarks only about once a minute.
        // Asking the server to end the watch first makes a quiet watch end cleanly instead of as an error.
        timeoutSeconds: WATCH_TIMEOUT_SECONDS,
        ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}),
      };
      new Watch(kubeConfig).watch(`/api/v1/namespaces/${namespace}/pods`, query, onEvent, onDone).then(
        (abort) => {
          this.abort = abort;
          if (this.closed) abort.abort();
          this.established?.();
          this.established = undefined;
        },
        // Only before the request is sent (e.g. no current cluster in the KubeConfig).
        (err: unknown) => resolve({ ...outcome, error: err }),
      );
    });
  }

  private deliver(change: PodChange, pod: V1Pod): void {
    try {
      this.options.onPod(change, pod);
    } catch (err) {
      this.options.logger.error({ err }, 'pod watch: handling an event failed');
    }
  }
}

function podKey(pod: V1Pod): string {
  return pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}
