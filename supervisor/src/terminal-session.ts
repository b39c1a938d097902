import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  encodePreferences,
  encodeTitle,
  type ExitStatus,
  type InitMessage,
  type TerminalSize,
} from '@cliscale/protocol';
import type { SupervisorConfig } from './config.js';
import { ClientConnection, type SessionForClient } from './client-connection.js';
import { credentialMatches } from './credential.js';
import { PtyJob, type JobExit } from './pty-job.js';
import { TerminalMirror, type Snapshot } from './terminal-mirror.js';
import type { ScreenDump } from './headless-screen.js';

export interface SessionStatus {
  state: 'running' | 'exited';
  command: string;
  pid: number;
  startedAt: string;
  endedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  bytesOut: number;
  clients: number;
  columns: number;
  rows: number;
  writable: boolean;
}

/**
 * One command on one pty, mirrored into one terminal model, shared by every client. The command starts
 * when the session is created, before anyone connects, and no client can stop it by leaving.
 */
export class TerminalSession
  extends EventEmitter<{ drained: [JobExit] }>
  implements SessionForClient
{
  readonly job: PtyJob;
  readonly queueLimitBytes: number;
  exitStatus: ExitStatus | undefined;
  private readonly mirror: TerminalMirror;
  private readonly clients = new Set<ClientConnection>();
  private size: TerminalSize;
  private nextClientId = 1;
  private endedAt?: Date;
  private drained = false;
  private readonly greetingMessages: Uint8Array[];
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly config: SupervisorConfig,
    readonly log: Logger,
    workerUrl: URL,
  ) {
    super();
    this.queueLimitBytes = config.clientQueueBytes;
    this.size = { columns: config.columns, rows: config.rows };
    this.greetingMessages = [
      encodeTitle(`${config.command.display} (${hostname()})`),
      encodePreferences(config.clientOptions),
    ];
    this.mirror = new TerminalMirror({
      columns: config.columns,
      rows: config.rows,
      scrollback: config.scrollback,
      highWaterBytes: config.parseBacklogBytes,
      lowWaterBytes: Math.floor(config.parseBacklogBytes / 4),
      workerUrl,
    });
    this.job = new PtyJob({
      argv: config.command.argv,
      cwd: config.cwd,
      columns: config.columns,
      rows: config.rows,
      terminalType: config.terminalType,
    });
    this.mirror.on('backlog-high', () => this.job.pause());
    this.mirror.on('backlog-low', () => this.job.resume());
    this.mirror.on('error', (err) => log.error({ err: err.message }, 'terminal model failed; replay is unavailable'));
    this.job.on('data', (chunk) => this.onOutput(chunk));
    this.job.on('exit', (exit) => this.onExit(exit));
    this.job.on('error', (err) => log.debug({ err: err.message }, 'pty error'));
    log.info({ commandPid: this.job.pid, command: config.command.display }, 'command started');

    const interval = config.pingIntervalMs;
    this.pinger = setInterval(() => {
      const deadline = Date.now() - 2 * interval;
      for (const c of this.clients) c.ping(deadline);
    }, interval);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  attach(ws: WebSocket): ClientConnection {
    const client = new ClientConnection(this.nextClientId++, ws, this);
    this.clients.add(client);
    this.log.info({ client: client.id, clients: this.clients.size }, 'client connected');
    return client;
  }

  // SessionForClient

  authenticate(init: InitMessage): boolean {
    if (!this.config.credential) return true;
    return credentialMatches(init.AuthToken ?? '', this.config.credential);
  }

  greeting(): Uint8Array[] {
    return this.greetingMessages;
  }

  snapshot(): Promise<Snapshot> {
    return this.mirror.snapshot();
  }

  input(_client: ClientConnection, data: Uint8Array): void {
    // Read-only sessions drop input silently, like ttyd without -W.
    if (this.config.writable) this.job.write(data);
  }

  /** Resize policy: the latest size any client sends wins (tmux's default `window-size latest`). */
  resize(_client: ClientConnection, size: TerminalSize): void {
    if (size.columns === this.size.columns && size.rows === this.size.rows) return;
    this.size = size;
    this.job.resize(size.columns, size.rows);
    this.mirror.resize(size.columns, size.rows);
  }

  detach(client: ClientConnection): void {
    if (!this.clients.delete(client)) return;
    this.log.info(
      { client: client.id, bytes: client.bytesSent, resyncs: client.resyncs, ms: Date.now() - client.connectedAt },
      'client disconnected',
    );
    this.maybeDrained();
  }

  dump(maxLines: number): Promise<ScreenDump> {
    return this.mirror.dump(maxLines);
  }

  status(): SessionStatus {
    return {
      state: this.exitStatus ? 'exited' : 'running',
      command: this.config.command.display,
      pid: this.job.pid,
      startedAt: this.job.startedAt.toISOString(),
      endedAt: this.endedAt?.toISOString() ?? null,
      exitCode: this.exitStatus?.exitCode ?? null,
      signal: this.exitStatus?.signal ?? null,
      bytesOut: this.mirror.received,
      clients: this.clients.size,
      columns: this.size.columns,
      rows: this.size.rows,
      writable: this.config.writable,
    };
  }

  /** Forwards a signal to the command's process group. */
  signal(sig: NodeJS.Signals): void {
    this.job.signal(sig);
  }

  /** Closes every client (e.g. the supervisor is shutting down) and stops the model. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const c of this.clients) c.terminate();
    await this.mirror.close();
  }

  private onOutput(chunk: Buffer): void {
    // The mirror first: a replay waiting for a boundary may be taken right after this chunk.
    this.mirror.push(chunk);
    const end = this.mirror.received;
    for (const c of this.clients) c.pushLive(chunk, end);
  }

  private onExit(exit: JobExit): void {
    this.endedAt = new Date();
    this.exitStatus = { exitCode: exit.code, signal: exit.signal };
    this.log.info({ exitCode: exit.code, signal: exit.signal, bytes: this.mirror.received }, 'command exited');
    // node-pty emits every data event before exit, so all output is already queued for every client.
    for (const c of this.clients) c.finish(this.config.exitOnJob);
    if (this.config.exitOnJob) {
      const timer = setTimeout(() => {
        if (this.clients.size > 0) this.log.warn({ clients: this.clients.size }, 'clients did not take the final output in time');
        for (const c of this.clients) c.terminate();
        this.emitDrained(exit);
      }, this.config.exitFlushTimeoutMs);
      this.once('drained', () => clearTimeout(timer));
      this.maybeDrained();
    }
  }

  private maybeDrained(): void {
    if (this.exitStatus && this.config.exitOnJob && this.clients.size === 0 && this.job.exit) {
      this.emitDrained(this.job.exit);
    }
  }

  private emitDrained(exit: JobExit): void {
    if (this.drained) return;
    this.drained = true;
    this.emit('drained', exit);
  }
}
