import type { Knex } from 'knex';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { CAPABILITY_EXIT_STATUS, CloseCode, encodeExitStatus, encodeInit, encodeOutput, type InitMessage } from '@cliscale/protocol';
import {
  FINISHED_SESSION_STATUSES,
  findTerminalSession,
  recordAudit,
  type Access,
  type SessionChanges,
  type SessionWatch,
  type TerminalSession,
} from '@cliscale/database';
import { Backoff, withoutControlCharacters } from '@cliscale/service-kit';
import type { GatewayMetrics } from './metrics.js';
import { clampResize, parseInit } from './client-init.js';
import { dropInput, markReadOnly, relay } from './message-relay.js';
import { plainReason } from './refusals.js';
import { openRunner, RunnerFull } from './runner-connection.js';

export interface BridgeSettings {
  runnerWaitMs: number;
  /** How often a terminal waiting for a starting runner reads its session when no notification comes. */
  runnerPollMs: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  maxConnectionMs: number;
  pingIntervalMs: number;
}

export interface BridgeContext {
  db: Knex;
  changes: SessionChanges;
  /** Keeps a background write (the audit log) until the gateway has waited for it at shutdown. */
  track(write: Promise<unknown>): void;
  logger: Logger;
  metrics: GatewayMetrics;
  settings: BridgeSettings;
}

const INIT_TIMEOUT_MS = 10_000;
const MAX_QUEUED_BEFORE_UPSTREAM = 64;
const MAX_QUEUED_BYTES_BEFORE_UPSTREAM = 64 << 10;
// Text from the database (a failure reason) must not drive the browser's terminal: control characters go.
const notice = (text: string) => encodeOutput(`\r\n\x1b[2m[cliscale] ${withoutControlCharacters(text)}\x1b[0m\r\n`);

/**
 * One browser (or ttyd client) connection, bridged to its session's runner. Waits for a runner that is still
 * starting (telling the user), retries refused or reset connections within RUNNER_WAIT_SECONDS, relays ttyd's
 * protocol unchanged both ways (input dropped for view-only access), and tells the user when the runner is
 * lost (close 1012: the page reconnects) or the session has ended (its exit status, then 1000).
 */
export class TerminalBridge {
  private upstream?: WebSocket;
  /** A runner connection still in its handshake: terminated if the client leaves meanwhile. */
  private connecting?: WebSocket;
  private closed = false;
  private init?: InitMessage;
  private initArrived?: () => void;
  private readonly queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly started = Date.now();
  private lastActivity = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private watch?: SessionWatch;

  constructor(
    private readonly client: WebSocket,
    private readonly access: Access,
    private readonly peer: { ip?: string; userAgent?: string },
    private readonly ctx: BridgeContext,
  ) {}

  async run(): Promise<void> {
    const { client, ctx } = this;
    const log = ctx.logger.child({ sessionId: this.access.sessionId, mode: this.access.mode });
    ctx.metrics.connectionsOpen.inc();
    ctx.track(recordAudit(ctx.db, {
      event: 'terminal.connected',
      sessionId: this.access.sessionId,
      actor: this.access.subject,
      clientIp: this.peer.ip,
      userAgent: this.peer.userAgent,
      detail: { mode: this.access.mode },
    }).catch((err) => log.warn({ err }, 'audit write failed')));

    client.on('message', (data: Buffer) => {
      this.lastActivity = Date.now();
      if (this.upstream?.readyState === WebSocket.OPEN) return; // relayed by relay() once connected
      if (!this.init) {
        // Checked before anything is opened upstream: a junk first message costs the runner nothing.
        this.init = parseInit(data);
        if (!this.init) return this.close(CloseCode.POLICY_VIOLATION, 'the first message must be the init message');
        this.initArrived?.();
        return;
      }
      const early = dropInput(data) && clampResize(data); // no typing ahead of the terminal
      if (!early || this.queued.length >= MAX_QUEUED_BEFORE_UPSTREAM || this.queuedBytes + early.length > MAX_QUEUED_BYTES_BEFORE_UPSTREAM) return;
      this.queued.push(early);
      this.queuedBytes += early.length;
    });
    client.once('close', () => this.finish(log));
    this.watchLiveness();

    if (!(await this.initMessage())) return this.close(CloseCode.POLICY_VIOLATION, 'no init message');
    await this.connect(log);
  }

  /** Until the runner answers, the session ends, the client leaves or RUNNER_WAIT_SECONDS pass. */
  private async connect(log: Logger): Promise<void> {
    const { settings, changes } = this.ctx;
    const deadline = Date.now() + settings.runnerWaitMs;
    let told = false;
    // A runner that does not answer yet is retried soon, then less often.
    const retry = new Backoff({ initialMs: 100, maxMs: 1000 });
    // Made before the first read: a change between reading the session and waiting still wakes us.
    this.watch = changes.watch(this.access.sessionId);
    try {
      while (!this.closed) {
        const session = await findTerminalSession(this.ctx.db, this.access.sessionId).catch(() => undefined);
        if (session && FINISHED_SESSION_STATUSES.includes(session.status)) return this.announceEnd(session);
        const running = session?.status === 'running' && session.runner_host && session.runner_port;
        if (running) {
          const started = Date.now();
          try {
            await this.openUpstream(session);
            this.ctx.metrics.upstreamConnectSeconds.observe((Date.now() - started) / 1000);
            return;
          } catch (err) {
            if (err instanceof RunnerFull) return this.refuseFull(log, err);
            log.debug({ err: (err as Error).message }, 'runner not reachable yet');
          }
        }
        if (!told) {
          this.send(notice(session?.status === 'running' ? 'connecting to the session…' : 'the session is starting; its terminal appears here when it is ready…'));
          told = true;
        }
        if (Date.now() > deadline) {
          this.send(notice(`the session's terminal did not become reachable within ${Math.round(settings.runnerWaitMs / 1000)} s; try again later`));
          return this.close(CloseCode.TRY_AGAIN_LATER, 'runner not reachable');
        }
        // A runner still starting announces itself with a notification; one that does not answer yet is
        // retried. Without notifications (their connection is down) every wait is a short poll.
        const waitMs = running || !changes.listening ? retry.next() : settings.runnerPollMs;
        await this.watch.changeOr(Math.min(waitMs, Math.max(0, deadline - Date.now()) + 10));
      }
    } finally {
      this.watch.close();
      this.watch = undefined;
    }
  }

  private async openUpstream(session: TerminalSession): Promise<void> {
    const { socket: upstream, opened } = openRunner(session, this.ctx.settings.maxMessageBytes);
    this.connecting = upstream;
    try {
      await opened;
    } finally {
      this.connecting = undefined;
    }
    if (this.closed) return void upstream.close(CloseCode.NORMAL);
    this.upstream = upstream;
    upstream.send(encodeInit({ ...this.init!, AuthToken: Buffer.from(session.runner_credential, 'utf8').toString('base64') }));
    for (const message of this.queued.splice(0)) upstream.send(message);
    this.queuedBytes = 0;
    const view = this.access.mode === 'view';
    relay(this.client, upstream, (n) => (this.bytesIn += n), view ? (data) => dropInput(data) && clampResize(data) : clampResize);
    const count = (n: number) => {
      this.bytesOut += n;
      this.lastActivity = Date.now();
    };
    relay(upstream, this.client, count, view ? markReadOnly : undefined);
    upstream.once('close', (code) => this.onUpstreamClose(code));
  }

  /** The runner has as many clients as it allows: said at once, not waited for (close 1013, try later). */
  private refuseFull(log: Logger, err: Error): void {
    log.info({ reason: err.message }, 'runner full: terminal refused');
    this.ctx.metrics.refusals.inc({ reason: 'runner-full' });
    this.send(notice('this session has too many viewers right now; close another of its terminals or try again later'));
    this.close(CloseCode.TRY_AGAIN_LATER, 'the session has too many viewers');
  }

  private onUpstreamClose(code: number): void {
    if (this.closed) return;
    // 1000: the command ended and the supervisor said so (the exit status was relayed just before).
    if (code === CloseCode.NORMAL) return this.close(CloseCode.NORMAL, 'session ended');
    this.send(notice('lost the connection to the session; reconnecting…'));
    this.close(CloseCode.SERVICE_RESTART, 'runner connection lost');
  }

  private announceEnd(session: TerminalSession): void {
    // The runner is gone, so this line is all the page will show: the supervisor's own account when known.
    const how = session.failure_reason ? `: ${plainReason(session.failure_reason)}` : session.exit_code !== null ? ` (exit code ${session.exit_code})` : '';
    this.send(notice(`the session has ended: ${session.status}${how}`));
    if (session.exit_code !== null && this.init?.capabilities?.includes(CAPABILITY_EXIT_STATUS)) {
      this.send(encodeExitStatus({ exitCode: session.exit_code, signal: null }));
    }
    this.close(CloseCode.NORMAL, `session ${session.status}`);
  }

  /** Pings (a silent peer is dropped after two intervals), the idle timeout and the connection's lifetime. */
  private watchLiveness(): void {
    const { settings } = this.ctx;
    let alive = true;
    this.client.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return this.client.terminate();
      alive = false;
      this.client.ping();
      if (Date.now() - this.lastActivity > settings.idleTimeoutMs) this.close(CloseCode.GOING_AWAY, 'idle');
    }, settings.pingIntervalMs);
    const lifetime = setTimeout(() => this.close(CloseCode.GOING_AWAY, 'connection lifetime reached'), settings.maxConnectionMs);
    // Neither keeps a stopping process alive: the connection itself does, as long as it is open.
    ping.unref();
    lifetime.unref();
    this.timers.push(ping, lifetime);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.client.readyState === WebSocket.OPEN) this.client.close(code, reason);
    else this.client.terminate();
  }

  /** Drops the connection without a close handshake (a peer that does not answer one). */
  terminate(): void {
    this.closed = true;
    this.client.terminate();
  }

  private send(message: Uint8Array): void {
    if (this.client.readyState === WebSocket.OPEN) this.client.send(message, { binary: true });
  }

  /** Resolves true once the client's init message is here, false after INIT_TIMEOUT_MS or a close. */
  private initMessage(): Promise<boolean> {
    if (this.init) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), INIT_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve(this.init !== undefined);
      };
      this.initArrived = done;
      this.client.once('close', done);
    });
  }

  private finish(log: Logger): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.watch?.close(); // a wait for the runner ends with the client
    this.connecting?.terminate(); // and so does a handshake with it
    if (this.upstream && this.upstream.readyState !== WebSocket.CLOSED) this.upstream.close(CloseCode.NORMAL);
    const ms = Date.now() - this.started;
    this.ctx.metrics.connectionsOpen.dec();
    this.ctx.metrics.bytes.inc({ direction: 'in' }, this.bytesIn);
    this.ctx.metrics.bytes.inc({ direction: 'out' }, this.bytesOut);
    log.info({ bytesIn: this.bytesIn, bytesOut: this.bytesOut, ms }, 'terminal disconnected');
    this.ctx.track(recordAudit(this.ctx.db, {
      event: 'terminal.disconnected',
      sessionId: this.access.sessionId,
      actor: this.access.subject,
      clientIp: this.peer.ip,
      userAgent: this.peer.userAgent,
      detail: { bytesIn: this.bytesIn, bytesOut: this.bytesOut, durationMs: ms },
    }).catch((err) => log.warn({ err }, 'audit write failed')));
  }
}

