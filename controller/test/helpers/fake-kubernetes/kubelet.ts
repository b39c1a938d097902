import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerProcess } from './container-process.js';
import { containerEnvironment, hostPath, mountVolumes } from './container-volumes.js';
import { freeLoopbackAddress } from './loopback-address.js';
import { mountTerminationMessage, terminationMessage } from './termination-message.js';
import type { ObjectStore, StoreEvent } from './object-store.js';
import { setCondition, setContainerState, setReady } from './pod-status.js';
import { ReadinessProber } from './readiness-prober.js';
import { kubeTime, type FakeContainer, type FakePod } from './types.js';

export interface FakeKubeletOptions {
  /** The container's entrypoint, for every image: the argv to run (e.g. node + the supervisor's bin). */
  entrypoint: string[];
  /** Base environment of every container (the image's ENV), e.g. PATH. */
  imageEnv?: Record<string, string>;
  /** Between ErrImagePull and ImagePullBackOff. */
  imagePullBackOffMs?: number;
}

interface PodRuntime {
  namespace: string;
  name: string;
  dir: string;
  ip?: string;
  container?: ContainerProcess;
  prober?: ReadinessProber;
  timers: Set<NodeJS.Timeout>;
  /** Why the kubelet itself ended the container, if it did. */
  killedFor?: 'OOMKilled' | 'DeadlineExceeded';
  deleting: boolean;
  /** The container ran and ended. */
  exited: boolean;
}

/** Images whose name contains this fail to pull, forever. */
export const MISSING_IMAGE_MARKER = 'does-not-exist';

/**
 * A kubelet that really runs each Pod's container as a local process: a 127.x.y.z pod IP assigned while the
 * container is still being created, emptyDir volumes as temp folders, the readiness probe, exit codes,
 * the pod's activeDeadlineSeconds, image pull failures, OOM kills, graceful deletion.
 */
export class FakeKubelet {
  readonly nodeName = 'fake-node-1';
  /** Every pod's folders (volumes, logs) live under this one. */
  readonly root = mkdtempSync(join(tmpdir(), 'fake-kubelet-'));
  private readonly pods = new Map<string, PodRuntime>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: FakeKubeletOptions,
  ) {
    this.unsubscribe = store.subscribe((event) => setImmediate(() => this.onChange(event)));
  }

  /** The running container of a pod (for tests: its pids, its logs). */
  container(podName: string): ContainerProcess | undefined {
    return [...this.pods.values()].find((p) => p.name === podName)?.container;
  }

  /** The OOM killer: SIGKILL for the whole container, reported as OOMKilled with exit code 137. */
  async oomKill(podName: string): Promise<void> {
    const runtime = [...this.pods.values()].find((p) => p.name === podName);
    if (!runtime?.container) throw new Error(`pod ${podName} has no running container`);
    runtime.killedFor = 'OOMKilled';
    await runtime.container.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    await Promise.all([...this.pods.values()].map((runtime) => this.discard(runtime)));
    rmSync(this.root, { recursive: true, force: true });
  }

  private onChange(event: StoreEvent): void {
    if (this.closed || event.object.kind !== 'Pod') return;
    const pod = event.object;
    const runtime = this.pods.get(pod.metadata.uid);
    if (event.type === 'ADDED' && !pod.spec?.nodeName) void this.run(pod);
    else if (event.type === 'DELETED' && runtime) void this.discard(runtime);
    else if (pod.metadata.deletionTimestamp && runtime && !runtime.deleting) void this.delete(runtime, pod);
  }

  private async run(pod: FakePod): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    const runtime: PodRuntime = { namespace, name, dir: join(this.root, name), timers: new Set(), deleting: false, exited: false };
    this.pods.set(uid, runtime);
    const spec = pod.spec!;
    const container = spec.containers[0]!;
    this.update(runtime, (p) => {
      p.spec!.nodeName = this.nodeName;
      setCondition(p.status!, 'PodScheduled', true);
    });

    const port = container.ports?.[0]?.containerPort ?? 80;
    runtime.ip = await freeLoopbackAddress(port);
    if (runtime.deleting || this.closed) return;
    // The sandbox has its IP well before the container runs, let alone answers its readiness probe.
    this.update(runtime, (p) => {
      const status = p.status!;
      Object.assign(status, { phase: 'Pending', hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }], podIP: runtime.ip, podIPs: [{ ip: runtime.ip }], startTime: kubeTime() });
      setCondition(status, 'PodReadyToStartContainers', true);
      setCondition(status, 'Initialized', true);
      setReady(status, false);
      setContainerState(status, container, { waiting: { reason: 'ContainerCreating' } }, { ready: false, started: false });
    });
    if (spec.activeDeadlineSeconds !== undefined) this.after(runtime, spec.activeDeadlineSeconds * 1000, () => void this.expire(runtime));

    if (container.image?.includes(MISSING_IMAGE_MARKER)) return this.failImagePull(runtime, container);

    const volumes = mountVolumes(spec, container, runtime.dir);
    const messageMount = mountTerminationMessage(container, runtime.dir);
    volumes.push(messageMount);
    const cwd = container.workingDir ? hostPath(container.workingDir, volumes) ?? join(runtime.dir, 'rootfs', container.workingDir) : runtime.dir;
    mkdirSync(cwd, { recursive: true });
    const env = { ...this.options.imageEnv, ...containerEnvironment(container, volumes), HOST: runtime.ip };
    const main = new ContainerProcess(this.options.entrypoint, { env, cwd });
    runtime.container = main;
    this.update(runtime, (p) => {
      p.status!.phase = 'Running';
      setContainerState(p.status!, container, { running: { startedAt: kubeTime(main.startedAt) } }, { ready: false, started: true }, main.id);
    });
    if (container.readinessProbe?.httpGet) {
      runtime.prober = new ReadinessProber(container, runtime.ip, (ready) => this.update(runtime, (p) => setReady(p.status!, ready)));
    } else {
      this.update(runtime, (p) => setReady(p.status!, true));
    }
    const { exitCode } = await main.exited;
    this.onExit(runtime, container, main, exitCode, terminationMessage(container, messageMount, exitCode, main.logs));
  }

  private onExit(runtime: PodRuntime, container: FakeContainer, main: ContainerProcess, exitCode: number, message: string | undefined): void {
    runtime.exited = true;
    runtime.prober?.stop();
    for (const timer of runtime.timers) clearTimeout(timer);
    const reason = runtime.killedFor === 'OOMKilled' ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    this.update(runtime, (p) => {
      const status = p.status!;
      const terminated = {
        exitCode,
        reason,
        ...(message !== undefined && { message }),
        startedAt: kubeTime(main.startedAt),
        finishedAt: kubeTime(),
        containerID: `containerd://${main.id}`,
      };
      setContainerState(status, container, { terminated }, { ready: false, started: false }, main.id);
      setReady(status, false, 'PodCompleted');
      status.phase = exitCode === 0 && !runtime.killedFor ? 'Succeeded' : 'Failed';
      if (runtime.killedFor === 'DeadlineExceeded') Object.assign(status, deadlineStatus());
    });
    if (runtime.deleting) void this.discard(runtime);
  }

  private failImagePull(runtime: PodRuntime, container: FakeContainer): void {
    const image = container.image!;
    const waiting = (reason: string, message: string) =>
      this.update(runtime, (p) => setContainerState(p.status!, container, { waiting: { reason, message } }, { ready: false, started: false }));
    waiting('ErrImagePull', `failed to pull and unpack image "docker.io/library/${image}": failed to resolve reference "docker.io/library/${image}": docker.io/library/${image}: not found`);
    this.after(runtime, this.options.imagePullBackOffMs ?? 500, () => waiting('ImagePullBackOff', `Back-off pulling image "${image}"`));
  }

  /** The pod's own activeDeadlineSeconds: the kubelet stops the pod and marks it DeadlineExceeded. */
  private async expire(runtime: PodRuntime): Promise<void> {
    runtime.killedFor = 'DeadlineExceeded';
    if (runtime.container) {
      const pod = this.store.get<FakePod>('Pod', runtime.namespace, runtime.name);
      await runtime.container.stop((pod?.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
      return;
    }
    this.update(runtime, (p) => {
      p.status!.phase = 'Failed';
      Object.assign(p.status!, deadlineStatus());
    });
  }

  /** Graceful deletion: stop the container within the grace period, then the Pod object goes. */
  private async delete(runtime: PodRuntime, pod: FakePod): Promise<void> {
    runtime.deleting = true;
    for (const timer of runtime.timers) clearTimeout(timer);
    if (!runtime.container || runtime.exited) return this.discard(runtime);
    // onExit reports the final status and removes the Pod.
    await runtime.container.stop((pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000);
  }

  /** Forgets a pod for good: its processes killed, its folder removed. */
  private async discard(runtime: PodRuntime): Promise<void> {
    runtime.deleting = true;
    runtime.prober?.stop();
    for (const timer of runtime.timers) clearTimeout(timer);
    await runtime.container?.kill();
    this.store.remove<FakePod>('Pod', runtime.namespace, runtime.name);
    for (const [uid, r] of this.pods) if (r === runtime) this.pods.delete(uid);
    rmSync(runtime.dir, { recursive: true, force: true });
  }

  private update(runtime: PodRuntime, change: (pod: FakePod) => void): void {
    if (this.closed) return;
    this.store.update<FakePod>('Pod', runtime.namespace, runtime.name, (p) => {
      p.status ??= {};
      change(p);
    });
  }

  private after(runtime: PodRuntime, ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      runtime.timers.delete(timer);
      run();
    }, ms);
    runtime.timers.add(timer);
  }
}

function deadlineStatus() {
  return { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
}
