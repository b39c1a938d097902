import type { RawData, WebSocket } from 'ws';
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
import { chunked, LiveQueue } from './live-queue.js';
import type { Snapshot, SnapshotKind } from './terminal-mirror.js';

/** Bytes handed to the socket but not yet flushed to the kernel. Beyond this, output waits in our queue. */
const MAX_INFLIGHT = 512 * 1024;
/**
 * A client that fell behind catches up on the current screen; its scrollback is replayed once it has kept
 * up (no overflow, a short queue) for this long. A flood thus costs it history for a while, never the view.
 */
const HISTORY_REPLAY_QUIET_MS = 1000;

/** What a client needs from the terminal session it is attached to. */
export interface SessionForClient {
  readonly log: Logger;
  readonly queueLimitBytes: number;
  /** Checks the init message's AuthToken; true when no credential is configured. */
  authenticate(init: InitMessage): boolean;
  /** Title and preferences messages, sent right after a valid init, as ttyd does. */
  greeting(): Uint8Array[];
  /** The terminal as of some offset at or after every byte pushed so far; bytes up to it must be skipped. */
  snapshot(kind: SnapshotKind): Promise<Snapshot>;
  /** Set when the command has ended and all its output has been pushed. */
  readonly exitStatus: ExitStatus | undefined;
  input(client: ClientConnection, data: Uint8Array): void;
  resize(client: ClientConnection, size: TerminalSize): void;
  detach(client: ClientConnection): void;
}

/** ws delivers a Buffer (its default binaryType); the other shapes it can deliver are folded into one. */
const asBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

/**
 * One WebSocket client. Output reaches it as: replay (a snapshot of the terminal), then every live byte
 * after the snapshot's offset, with no gap and no duplicate. Its queue is bounded: a client that falls
 * too far behind drops its queue and is brought back by a replay of the current screen once its socket
 * drains, and by a complete replay once it keeps up again, so it never grows memory or slows the command or
 * the other clients, and always shows where the command is.
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
  private readonly queue = new LiveQueue();
  private inflight = 0;
  /** A snapshot request is outstanding; live bytes after its offset are queued meanwhile. */
  private syncing = false;
  /** A replay is due (queue overflowed, or history to restore): live bytes are dropped until it is taken. */
  private pendingResync: SnapshotKind | undefined;
  /** The client was last brought back by a screen-only replay: its scrollback is not the terminal's. */
  private historyStale = false;
  private lastOverflowAt = 0;
  private historyTimer: NodeJS.Timeout | undefined;
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
    ws.on('message', (data, isBinary) => {
      const bytes = asBuffer(data);
      this.onMessage(toBytes(isBinary ? bytes : bytes.toString('utf8')));
    });
    ws.on('pong', () => (this.lastPong = Date.now()));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => session.log.debug({ client: id, err: err.message }, 'client socket error'));
  }

  get isLive(): boolean {
    return this.initialized && !this.closed;
  }

  /** A live chunk of output ending at stream offset `end`. Called for every chunk, in order. */
  pushLive(chunk: Uint8Array, end: number): void {
    if (!this.isLive || this.pendingResync) return;
    if (this.queue.bytes + chunk.byteLength > this.session.queueLimitBytes) {
      this.overflow();
      return;
    }
    this.queue.push(chunk, end);
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
      this.startSync('full');
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

  private startSync(kind: SnapshotKind): void {
    this.pendingResync = undefined;
    this.syncing = true;
    this.front = [];
    this.queue.clear();
    if (kind === 'full') this.historyStale = false;
    else this.scheduleHistoryReplay();
    const generation = ++this.syncGeneration;
    const current = () => generation === this.syncGeneration && !this.closed;
    const failed = (err: Error) => {
      if (!current()) return;
      this.session.log.error({ client: this.id, err: err.message }, 'replay failed');
      this.close(CloseCode.INTERNAL_ERROR, 'replay failed');
    };
    this.session.snapshot(kind).then((snapshot) => {
      if (!current()) return;
      this.queue.skipThrough(snapshot.offset);
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

  private overflow(): void {
    this.resyncs++;
    this.session.log.info({ client: this.id, queued: this.queue.bytes }, 'client fell behind; it will get a fresh replay');
    // Live bytes are dropped from here on. A replay already on its way is kept: it is the terminal as of its
    // own offset, so the client still sees a whole, current picture; the next replay follows once it is out.
    // (Restarting it instead starved a client for as long as a flood lasted: every request went stale
    // before the model reached its offset, and nothing was ever sent.)
    this.pendingResync = 'screen';
    this.historyStale = true;
    this.lastOverflowAt = Date.now();
    this.queue.clear();
    this.pump();
  }

  /** Once the client keeps up again, its scrollback comes back with a complete replay. */
  private scheduleHistoryReplay(): void {
    clearTimeout(this.historyTimer);
    this.historyTimer = setTimeout(() => {
      if (this.closed || !this.historyStale) return;
      const keepingUp = Date.now() - this.lastOverflowAt >= HISTORY_REPLAY_QUIET_MS && this.queue.bytes < this.session.queueLimitBytes / 4;
      if (!keepingUp || this.syncing || this.pendingResync) return this.scheduleHistoryReplay();
      this.pendingResync = 'full';
      this.pump();
    }, HISTORY_REPLAY_QUIET_MS);
    this.historyTimer.unref();
  }

  private pump(): void {
    if (this.closed) return;
    while (!this.paused && this.inflight < MAX_INFLIGHT) {
      // While syncing or behind, only the replay goes out; live bytes wait for the complete replay.
      const payload = this.syncing || this.pendingResync ? this.front.shift() : this.nextPayload();
      if (!payload) break;
      this.sendOutput(payload);
    }
    const drained = !this.syncing && this.inflight === 0 && this.front.length === 0;
    // The command has ended: a client shown only the screen gets the whole terminal before the end.
    if (this.finishing && drained && this.historyStale && !this.pendingResync) this.pendingResync = 'full';
    if (this.pendingResync) {
      // One replay at a time, requested once the socket has drained: an earlier one would be stale when sent.
      if (drained && !this.paused) this.startSync(this.pendingResync);
      return;
    }
    if (this.finishing && drained && this.queue.empty) {
      const status = this.session.exitStatus;
      if (status && this.wantsExitStatus) this.send(encodeExitStatus(status));
      this.ws.close(CloseCode.NORMAL, 'command ended');
      this.closed = true;
    }
  }

  private nextPayload(): Uint8Array | undefined {
    return this.front.shift() ?? this.queue.take();
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
    clearTimeout(this.historyTimer);
    this.front = [];
    this.queue.clear();
    this.session.detach(this);
  }
}
