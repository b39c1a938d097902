import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ScreenDump } from '@cliscale/terminal-screen';
import type { FromMirror, MirrorInit, ToMirror } from './mirror-messages.js';
import { StreamBoundary } from './stream-boundary.js';

/**
 * What a replay holds: everything (scrollback, screen, cursor, modes, colours), or only the screen (a client
 * that fell behind a flood catches up on that, cheaply; its history follows once output calms down).
 */
export type SnapshotKind = 'full' | 'screen';

/** The terminal as of byte `offset` of the output stream, as escape sequences for a blank terminal. */
export interface Snapshot {
  offset: number;
  /** With a large history: the current screen alone, ready in milliseconds, to show while `complete` is made. */
  screen?: Uint8Array;
  /** Scrollback, screen, cursor, modes and colours. */
  complete: Promise<Uint8Array>;
}

/**
 * A snapshot waits for the stream to reach an instruction boundary. A stream that stops mid-sequence (rare:
 * a program that printed half an escape sequence and went quiet) is snapshotted anyway after this long.
 */
const BOUNDARY_WAIT_MS = 500;

export interface MirrorOptions extends MirrorInit {
  /** Unparsed bytes above which 'backlog-high' fires (the command is then paused). */
  highWaterBytes: number;
  /** Unparsed bytes below which 'backlog-low' fires again. */
  lowWaterBytes: number;
  workerUrl: URL;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // callers that care attach their own handlers; none may go unhandled
  return { promise, resolve, reject };
}

interface PendingSnapshot {
  offset: number;
  first: Deferred<Snapshot>;
  complete: Deferred<Uint8Array>;
}

/**
 * Main-thread side of the terminal model. Bytes are batched per event-loop turn and transferred to the
 * worker, which parses them in order; snapshots and dumps are answered at exactly the byte offset at which
 * they were requested, because the worker handles messages in the order they were posted.
 */
export class TerminalMirror extends EventEmitter<{ 'backlog-high': []; 'backlog-low': []; error: [Error] }> {
  /** Bytes received from the command so far. */
  received = 0;
  private parsed = 0;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private high = false;
  private nextId = 1;
  private readonly dumps = new Map<number, Deferred<ScreenDump>>();
  private readonly snapshots = new Map<number, PendingSnapshot>();
  /** Clients that connect at the same moment share one serialization (per kind). */
  private readonly cachedSnapshots = new Map<SnapshotKind, { received: number; promise: Promise<Snapshot> }>();
  private readonly boundary = new StreamBoundary();
  /** Snapshot requests waiting for the stream to reach a boundary. */
  private deferred: Array<{ kind: SnapshotKind; resolve: (snapshot: Promise<Snapshot>) => void }> = [];
  private deferredTimer?: NodeJS.Timeout;
  private failed?: Error;
  private readonly worker: Worker;

  constructor(private readonly options: MirrorOptions) {
    super();
    const init: MirrorInit = { columns: options.columns, rows: options.rows, scrollback: options.scrollback };
    this.worker = new Worker(options.workerUrl, { workerData: init });
    this.worker.on('message', (msg: FromMirror) => this.onMessage(msg));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`terminal model stopped (exit ${code})`)));
  }

  get backlog(): number {
    // Without a working model nothing parses: the command must not be held back forever.
    return this.failed ? 0 : this.received - this.parsed;
  }

  push(chunk: Uint8Array): void {
    this.received += chunk.byteLength;
    this.batch.push(chunk);
    this.batchBytes += chunk.byteLength;
    this.boundary.feed(chunk);
    if (this.deferred.length > 0 && this.boundary.atBoundary) this.releaseDeferred();
    if (!this.high && this.backlog > this.options.highWaterBytes) {
      this.high = true;
      this.emit('backlog-high');
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  resize(columns: number, rows: number): void {
    this.post({ t: 'resize', columns, rows });
    this.cachedSnapshots.clear();
  }

  /**
   * The terminal as of the first instruction boundary at or after every byte pushed so far. Bytes up to
   * its `offset` are in it; callers must send only what follows.
   */
  snapshot(kind: SnapshotKind = 'full'): Promise<Snapshot> {
    if (this.boundary.atBoundary) return this.snapshotNow(kind);
    return new Promise((resolve) => {
      this.deferred.push({ kind, resolve });
      this.deferredTimer ??= setTimeout(() => this.releaseDeferred(), BOUNDARY_WAIT_MS);
    });
  }

  dump(maxLines: number): Promise<ScreenDump> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const result = deferred<ScreenDump>();
    this.dumps.set(id, result);
    this.post({ t: 'dump', id, maxLines });
    return result.promise;
  }

  async close(): Promise<void> {
    clearTimeout(this.deferredTimer);
    this.failed ??= new Error('terminal model closed');
    await this.worker.terminate();
  }

  private releaseDeferred(): void {
    clearTimeout(this.deferredTimer);
    this.deferredTimer = undefined;
    const waiting = this.deferred;
    this.deferred = [];
    for (const { kind, resolve } of waiting) resolve(this.snapshotNow(kind));
  }

  private snapshotNow(kind: SnapshotKind): Promise<Snapshot> {
    const cached = this.cachedSnapshots.get(kind);
    if (cached?.received === this.received) return cached.promise;
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const pending: PendingSnapshot = { offset: this.received, first: deferred(), complete: deferred() };
    this.snapshots.set(id, pending);
    this.post({ t: 'snapshot', id, screenOnly: kind === 'screen' });
    const promise = pending.first.promise;
    this.cachedSnapshots.set(kind, { received: pending.offset, promise });
    promise.catch(() => {
      if (this.cachedSnapshots.get(kind)?.promise === promise) this.cachedSnapshots.delete(kind);
    });
    return promise;
  }

  /** Control messages go after every byte pushed before them. */
  private post(msg: ToMirror): void {
    this.flush();
    if (!this.failed) this.worker.postMessage(msg);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batchBytes === 0) return;
    // A fresh buffer: pty chunks may live in shared pools, which must never be transferred (detached).
    const bytes = new Uint8Array(this.batchBytes);
    let at = 0;
    for (const chunk of this.batch) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    this.batch = [];
    this.batchBytes = 0;
    if (this.failed) return;
    this.worker.postMessage({ t: 'data', bytes } satisfies ToMirror, [bytes.buffer]);
  }

  private onMessage(msg: FromMirror): void {
    switch (msg.t) {
      case 'parsed':
        this.parsed += msg.bytes;
        if (this.high && this.backlog < this.options.lowWaterBytes) {
          this.high = false;
          this.emit('backlog-low');
        }
        return;
      case 'dump':
        this.dumps.get(msg.id)?.resolve(msg.dump);
        this.dumps.delete(msg.id);
        return;
      case 'snapshot': {
        const pending = this.snapshots.get(msg.id);
        if (!pending) return;
        // The first part settles `first` (resolving twice is a no-op); the complete part ends the request.
        pending.first.resolve({
          offset: pending.offset,
          screen: msg.complete ? undefined : msg.data,
          complete: pending.complete.promise,
        });
        if (msg.complete) {
          pending.complete.resolve(msg.data);
          this.snapshots.delete(msg.id);
        }
      }
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const d of this.dumps.values()) d.reject(err);
    this.dumps.clear();
    for (const p of this.snapshots.values()) {
      p.first.reject(err);
      p.complete.reject(err);
    }
    this.snapshots.clear();
    if (this.high) {
      this.high = false;
      this.emit('backlog-low');
    }
    this.emit('error', err);
  }
}
