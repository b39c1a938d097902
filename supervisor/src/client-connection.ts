import type { WebSocket } from 'ws';
import {
  CAPABILITY_EXIT_STATUS,
  CloseCode,
  decodeClientMessage,
  encodeExitStatus,
  encodeOutput,
  toBytes,
  type ExitStatus,
  type InitMessage,
  type TerminalSize,
} from '@cliscale/protocol';
import type { Logger } from 'pino';
import type { Snapshot } from './terminal-mirror.js';

/** Largest OUTPUT message we build when several small pty chunks are waiting. */
const MAX_MESSAGE_PAYLOAD = 64 * 1024;
/** Bytes handed to the socket but not yet flushed to the kernel. Beyond this, output waits in our queue. */
const MAX_INFLIGHT = 512 * 1024;

/** Replay data split into OUTPUT messages of at most MAX_MESSAGE_PAYLOAD bytes (views, not copies). */
function chunked(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength; at += MAX_MESSAGE_PAYLOAD) out.push(data.subarray(at, at + MAX_MESSAGE_PAYLOAD));
  return out;
}

/** A live chunk and the stream offset just after it. */
interface Queued {
  bytes: Uint8Array;
  end: number;
}

/** What a client needs from the terminal session it is attached to. */
export interface SessionForClient {
  readonly log: Logger;
  readonly queueLimitBytes: number;
  /** Checks the init message's AuthToken; true when no credential is configured. */
  authenticate(init: InitMessage): boolean;
  /** Title and preferences messages, sent right after a valid init, as ttyd does. */
  greeting(): Uint8Array[];
  /** The terminal as of some offset at or after every byte pushed so far; bytes up to it must be skipped. */
  snapshot(): Promise<Snapshot>;
  /** Set when the command has ended and all its output has been pushed. */
  readonly exitStatus: ExitStatus | undefined;
  input(client: ClientConnection, data: Uint8Array): void;
  resize(client: ClientConnection, size: TerminalSize): void;
  detach(client: ClientConnection): void;
}

/**
 * One WebSocket client. Output reaches it as: replay (a snapshot of the terminal), then every live byte
 * after the snapshot's offset, with no gap and no duplicate. Its queue is bounded: a client that falls
 * too far behind drops its queue and is brought back by a fresh replay once its socket drains, so it never
 * grows memory or slows the command or the other clients.
 */
export class ClientConnection {
  readonly id: number;
  readonly connectedAt = Date.now();
  bytesSent = 0;
  resyncs = 0;
  private initialized = false;
  private wantsExitStatus = false;
  private paused = false;
  /** Replay chunks to send before the live queue. */
  private front: Uint8Array[] = [];
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private inflight = 0;
  /** A snapshot request is outstanding; live bytes after its offset are queued meanwhile. */
  private syncing = false;
  /** Queue overflowed: live bytes are dropped until a fresh replay can be sent. */
  private needsResync = false;
  private syncGeneration = 0;
  private finishing = false;
  private closed = false;
  lastPong = Date.now();

  constructor(
    id: number,
    private readonly ws: WebSocket,
    private readonly session: SessionForClient,
  ) {
    this.id = id;
    ws.on('message', (data, isBinary) => this.onMessage(toBytes(isBinary ? (data as Buffer) : data.toString())));
    ws.on('pong', () => (this.lastPong = Date.now()));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => session.log.debug({ client: id, err: err.message }, 'client socket error'));
  }

  get isLive(): boolean {
    return this.initialized && !this.closed;
  }

  /** A live chunk of output ending at stream offset `end`. Called for every chunk, in order. */
  pushLive(chunk: Uint8Array, end: number): void {
    if (!this.isLive || this.needsResync) return;
    if (this.queuedBytes + chunk.byteLength > this.session.queueLimitBytes) {
      this.overflow();
      return;
    }
    this.queue.push({ bytes: chunk, end });
    this.queuedBytes += chunk.byteLength;
    this.pump();
  }

  /**
   * The command has ended: deliver everything still queued, then the exit status, then close with 1000.
   * A client that has not sent its init yet is closed at once when `closeIfUninitialized` (the supervisor is
   * about to exit), otherwise it gets the final screen once it does.
   */
  finish(closeIfUninitialized: boolean): void {
    if (this.closed) return;
    this.finishing = true;
    if (this.initialized) this.pump();
    else if (closeIfUninitialized) this.close(CloseCode.NORMAL, 'command ended');
  }

  ping(deadline: number): void {
    if (this.closed) return;
    if (this.lastPong < deadline) {
      this.session.log.info({ client: this.id }, 'client stopped answering pings; dropping it');
      this.ws.terminate();
      return;
    }
    this.ws.ping();
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(bytes: Uint8Array): void {
    if (this.closed) return;
    const msg = decodeClientMessage(bytes);
    if (msg.type === 'init') {
      // ttyd ignores a second init; so do we.
      if (this.initialized) return;
      if (!this.session.authenticate(msg.init)) {
        this.session.log.warn({ client: this.id }, 'client sent a wrong AuthToken');
        this.ws.close(CloseCode.POLICY_VIOLATION, 'authentication failed');
        this.closed = true;
        return;
      }
      this.initialized = true;
      this.wantsExitStatus = msg.init.capabilities?.includes(CAPABILITY_EXIT_STATUS) ?? false;
      this.session.resize(this, { columns: msg.init.columns, rows: msg.init.rows });
      for (const m of this.session.greeting()) this.send(m);
      // After the command has ended a client still gets the final screen, then the status and the close.
      if (this.session.exitStatus) this.finishing = true;
      this.startSync();
      return;
    }
    if (!this.initialized) {
      // ttyd drops the connection on input before init; ignoring it is kinder and just as safe.
      return;
    }
    switch (msg.type) {
      case 'input':
        this.session.input(this, msg.data);
        break;
      case 'resize':
        this.session.resize(this, msg.size);
        break;
      case 'pause':
        this.paused = true;
        break;
      case 'resume':
        this.paused = false;
        this.pump();
        break;
      case 'invalid':
        this.session.log.debug({ client: this.id, reason: msg.reason }, 'ignored invalid client message');
        break;
      case 'unknown':
        this.session.log.debug({ client: this.id, command: msg.command }, 'ignored unknown client message');
        break;
    }
  }

  private startSync(): void {
    this.needsResync = false;
    this.syncing = true;
    this.front = [];
    this.queue = [];
    this.queuedBytes = 0;
    const generation = ++this.syncGeneration;
    const current = () => generation === this.syncGeneration && !this.closed;
    const failed = (err: Error) => {
      if (!current()) return;
      this.session.log.error({ client: this.id, err: err.message }, 'replay failed');
      this.close(CloseCode.INTERNAL_ERROR, 'replay failed');
    };
    this.session.snapshot().then((snapshot) => {
      if (!current()) return;
      this.skipQueuedThrough(snapshot.offset);
      if (snapshot.screen) {
        // A large history takes a while to serialize: show the current screen now. Live bytes wait in the
        // (bounded) queue until the complete replay, which starts with a reset, replaces it.
        this.front = chunked(snapshot.screen);
        this.pump();
      }
      snapshot.complete.then((data) => {
        if (!current()) return;
        this.syncing = false;
        this.front = chunked(data);
        this.pump();
      }, failed);
    }, failed);
  }

  /** Live bytes up to `offset` are already in the replay. */
  private skipQueuedThrough(offset: number): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.end <= offset) {
        this.queue.shift();
        this.queuedBytes -= head.bytes.byteLength;
        continue;
      }
      const start = head.end - head.bytes.byteLength;
      if (start < offset) {
        head.bytes = head.bytes.subarray(offset - start);
        this.queuedBytes -= offset - start;
      }
      break;
    }
  }

  private overflow(): void {
    this.resyncs++;
    this.session.log.info({ client: this.id, queued: this.queuedBytes }, 'client fell behind; it will get a fresh replay');
    this.needsResync = true;
    this.syncGeneration++; // any replay in flight is stale now
    this.syncing = false;
    this.front = [];
    this.queue = [];
    this.queuedBytes = 0;
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    if (this.needsResync) {
      // Wait until the socket has drained: a replay requested earlier would be stale by the time it is sent.
      if (this.inflight === 0 && !this.paused) this.startSync();
      return;
    }
    while (!this.paused && this.inflight < MAX_INFLIGHT) {
      // While syncing only the replay goes out; live bytes wait for the complete replay.
      const payload = this.syncing ? this.front.shift() : this.nextPayload();
      if (!payload) break;
      this.sendOutput(payload);
    }
    if (this.finishing && !this.syncing && this.inflight === 0 && this.front.length === 0 && this.queue.length === 0) {
      const status = this.session.exitStatus;
      if (status && this.wantsExitStatus) this.send(encodeExitStatus(status));
      this.ws.close(CloseCode.NORMAL, 'command ended');
      this.closed = true;
    }
  }

  private nextPayload(): Uint8Array | undefined {
    const first = this.front.shift();
    if (first) return first;
    const head = this.queue.shift()?.bytes;
    if (!head) return undefined;
    this.queuedBytes -= head.byteLength;
    // Coalesce small chunks (a busy pty yields many) into one message: fewer frames, same bytes.
    const parts = [head];
    let size = head.byteLength;
    while (this.queue.length > 0 && size + this.queue[0]!.bytes.byteLength <= MAX_MESSAGE_PAYLOAD) {
      const next = this.queue.shift()!.bytes;
      this.queuedBytes -= next.byteLength;
      parts.push(next);
      size += next.byteLength;
    }
    if (parts.length === 1) return head;
    const merged = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      merged.set(p, at);
      at += p.byteLength;
    }
    return merged;
  }

  private sendOutput(payload: Uint8Array): void {
    const message = encodeOutput(payload);
    this.inflight += message.byteLength;
    this.ws.send(message, (err) => {
      this.inflight -= message.byteLength;
      if (err) return; // the close handler cleans up
      this.bytesSent += message.byteLength;
      this.pump();
    });
  }

  private send(message: Uint8Array): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(message);
  }

  private onClose(): void {
    this.closed = true;
    this.front = [];
    this.queue = [];
    this.queuedBytes = 0;
    this.session.detach(this);
  }
}
