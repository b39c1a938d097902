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
import type { FailingPhase, Phase } from './prepare/phase-error.js';
import { failureLine } from './prepare/terminal-lines.js';
import { TerminalMirror, type Snapshot, type SnapshotKind } from './terminal-mirror.js';
import type { ScreenDump } from '@cliscale/terminal-screen';
import { SUPERVISOR_ENV } from '@cliscale/runner-contract';

export interface SessionStatus {
  state: 'preparing' | 'running' | 'exited' | 'failed';
  /** The step in progress: fetching, verifying, extracting, installing, starting, running, exited or failed. */
  phase: Phase;
  /** Why the session failed before its command could run (exit code per phase, see the README). */
  failure: { phase: FailingPhase; message: string } | null;
  command: string;
  /** The running job's pid (install command, then the command); null while fetching. */
  pid: number | null;
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

/** The supervisor's own settings are not the job's business. */
const PRIVATE_ENV = [SUPERVISOR_ENV.credential];
/** A command paused for the parse backlog resumes once the terminal model has parsed this much of it. */
const RESUME_AFTER_PARSED_BYTES = 1 << 20;

/**
 * One terminal, mirrored into one terminal model, shared by every client. Jobs run on it one after the other
 * (the install command, then the command), with the supervisor's own progress lines in between; the command
 * starts before anyone connects, and no client can stop it by leaving.
 */
export class TerminalSession
  extends EventEmitter<{ drained: [JobExit]; ended: [JobExit] }>
  implements SessionForClient
{
  /** The job on the terminal now: the install command, then the command. */
  job: PtyJob | undefined;
  phase: Phase = 'starting';
  failure: { phase: FailingPhase; message: string } | undefined;
  /** Set once the session is over: the command's exit, or the failure's exit code. */
  exit: JobExit | undefined;
  /** Whether the command itself ran (an exit before that ended the preparation). */
  commandStarted = false;
  readonly queueLimitBytes: number;
  private readonly mirror: TerminalMirror;
  private readonly clients = new Set<ClientConnection>();
  private size: TerminalSize;
  private nextClientId = 1;
  private endedAt?: Date;
  private drained = false;
  private readonly greetingMessages: Uint8Array[];
  private readonly pinger: NodeJS.Timeout;
  private readonly startedAt = new Date();
  private backlogHigh = false;

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
      // A narrow band: a paused command resumes as soon as the model has parsed 1 MiB. What it prints next
      // (the prompt after a Ctrl+C) then waits for 1 MiB of parsing, not for most of the backlog.
      lowWaterBytes: config.parseBacklogBytes - Math.min(RESUME_AFTER_PARSED_BYTES, Math.floor(config.parseBacklogBytes / 4)),
      workerUrl,
    });
    this.mirror.on('backlog-high', () => {
      this.backlogHigh = true;
      this.job?.pause();
    });
    this.mirror.on('backlog-low', () => {
      this.backlogHigh = false;
      this.job?.resume();
    });
    this.mirror.on('error', (err) => log.error({ err: err.message }, 'terminal model failed; replay is unavailable'));

    const interval = config.pingIntervalMs;
    this.pinger = setInterval(() => {
      const deadline = Date.now() - 2 * interval;
      for (const c of this.clients) c.ping(deadline);
    }, interval);
  }

  /** Writes the supervisor's own text (progress, failures) into the terminal, as if a job had printed it. */
  print(text: string): void {
    this.onOutput(Buffer.from(text, 'utf8'));
  }

  /** Starts a job on the terminal at its current size. Its output is the terminal's until it exits. */
  runJob(argv: string[], cwd: string): PtyJob {
    const env = { ...process.env };
    for (const name of PRIVATE_ENV) delete env[name];
    const job = new PtyJob({ argv, cwd, env, columns: this.size.columns, rows: this.size.rows, terminalType: this.config.terminalType });
    this.job = job;
    if (this.backlogHigh) job.pause();
    job.on('data', (chunk) => this.onOutput(chunk));
    job.on('error', (err) => this.log.debug({ err: err.message }, 'pty error'));
    return job;
  }

  /** Starts the session's command; the session ends when it exits. */
  startCommand(argv: string[], cwd: string): PtyJob {
    const job = this.runJob(argv, cwd);
    this.phase = 'running';
    this.commandStarted = true;
    job.on('exit', (exit) => this.end(exit));
    this.log.info({ commandPid: job.pid, command: this.config.command.display }, 'command started');
    return job;
  }

  /** Ends the session before its command ran: one line in the terminal saying why, then the exit code. */
  fail(phase: FailingPhase, message: string, code: number): void {
    this.failure = { phase, message };
    this.phase = 'failed';
    this.log.error({ phase, exitCode: code, reason: message }, 'session failed');
    this.print(failureLine(phase, message));
    this.end({ code, signal: null });
  }

  /** What clients that asked for it get before the final close. */
  get exitStatus(): ExitStatus | undefined {
    return this.exit && { exitCode: this.exit.code, signal: this.exit.signal };
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

  snapshot(kind?: SnapshotKind): Promise<Snapshot> {
    return this.mirror.snapshot(kind);
  }

  input(_client: ClientConnection, data: Uint8Array): void {
    // Read-only sessions drop input silently, like ttyd without -W.
    if (this.config.writable) this.job?.write(data);
  }

  /** Resize policy: the latest size any client sends wins (tmux's default `window-size latest`). */
  resize(_client: ClientConnection, size: TerminalSize): void {
    if (size.columns === this.size.columns && size.rows === this.size.rows) return;
    this.size = size;
    this.job?.resize(size.columns, size.rows);
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
    const state = this.phase === 'failed' || this.phase === 'exited' || this.phase === 'running' ? this.phase : 'preparing';
    return {
      state,
      phase: this.phase,
      failure: this.failure ?? null,
      command: this.config.command.display,
      pid: this.job?.pid ?? null,
      startedAt: this.startedAt.toISOString(),
      endedAt: this.endedAt?.toISOString() ?? null,
      exitCode: this.exit?.code ?? null,
      signal: this.exit?.signal ?? null,
      bytesOut: this.mirror.received,
      clients: this.clients.size,
      columns: this.size.columns,
      rows: this.size.rows,
      writable: this.config.writable,
    };
  }

  /** Forwards a signal to the running job's process group. */
  signal(sig: NodeJS.Signals): void {
    this.job?.signal(sig);
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

  /** The session is over: every client gets the rest of the output and the exit status. */
  end(exit: JobExit): void {
    if (this.exit) return;
    this.exit = exit;
    if (this.phase !== 'failed') this.phase = 'exited';
    this.endedAt = new Date();
    this.log.info({ exitCode: exit.code, signal: exit.signal, bytes: this.mirror.received }, 'session ended');
    this.emit('ended', exit);
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
    if (this.exit && this.config.exitOnJob && this.clients.size === 0) this.emitDrained(this.exit);
  }

  private emitDrained(exit: JobExit): void {
    if (this.drained) return;
    this.drained = true;
    this.emit('drained', exit);
  }
}
