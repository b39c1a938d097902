import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ScreenDump } from './headless-screen.js';
import type { FromMirror, MirrorInit, ToMirror } from './mirror-messages.js';

export interface MirrorOptions extends MirrorInit {
  /** Unparsed bytes above which 'backlog-high' fires (the command is then paused). */
  highWaterBytes: number;
  /** Unparsed bytes below which 'backlog-low' fires again. */
  lowWaterBytes: number;
  workerUrl: URL;
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
  private readonly waiting = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  /** Clients that connect at the same moment share one serialization. */
  private cachedSnapshot?: { received: number; promise: Promise<Uint8Array> };
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
    this.cachedSnapshot = undefined;
  }

  /** The serialized terminal as of every byte pushed so far (starting with a full reset). */
  snapshot(): Promise<Uint8Array> {
    if (this.cachedSnapshot?.received === this.received) return this.cachedSnapshot.promise;
    const promise = this.request<Uint8Array>((id) => ({ t: 'snapshot', id }));
    this.cachedSnapshot = { received: this.received, promise };
    promise.catch(() => {
      if (this.cachedSnapshot?.promise === promise) this.cachedSnapshot = undefined;
    });
    return promise;
  }

  dump(maxLines: number): Promise<ScreenDump> {
    return this.request<ScreenDump>((id) => ({ t: 'dump', id, maxLines }));
  }

  async close(): Promise<void> {
    this.failed ??= new Error('terminal model closed');
    await this.worker.terminate();
  }

  private request<T>(make: (id: number) => ToMirror): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: never) => void, reject });
    });
    this.post(make(id));
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
    if (msg.t === 'parsed') {
      this.parsed += msg.bytes;
      if (this.high && this.backlog < this.options.lowWaterBytes) {
        this.high = false;
        this.emit('backlog-low');
      }
      return;
    }
    const waiter = this.waiting.get(msg.id);
    if (!waiter) return;
    this.waiting.delete(msg.id);
    waiter.resolve((msg.t === 'snapshot' ? msg.data : msg.dump) as never);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    if (this.high) {
      this.high = false;
      this.emit('backlog-low');
    }
    this.emit('error', err);
  }
}
