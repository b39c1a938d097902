import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { ACTIVE_SESSION_STATUSES, FINISHED_SESSION_STATUSES, recordAudit, sessionQueries as store, type AccessMode, type SessionRow, type SessionStatus } from '@cliscale/database';
import type { CreateSessionRequest } from '../http/api-schemas.js';
import { HttpError } from '../http/http-error.js';
import type { ControllerMetrics } from '../http/metrics.js';
import { FINISHED_RUNNER_STATES, RunnerUnavailableError, type RunnerBackend, type RunnerEvent } from '../runners/runner-backend.js';
import type { IssuedToken, TokenIssuer } from '../tokens/token-issuer.js';
import { checkCodeUrl, type CodeUrlPolicy, type ResolveHost } from './code-url-policy.js';
import { runnerEnv } from './runner-env.js';

export interface SessionServiceOptions {
  db: Knex;
  backend: RunnerBackend;
  tokens: TokenIssuer;
  codeUrlPolicy: CodeUrlPolicy;
  resolveHost: ResolveHost;
  maxSeconds: number;
  maxActivePerKey: number;
  defaultCommand: string;
  metrics: ControllerMetrics;
  logger: Logger;
}

/** Who is asking, for ownership checks and the audit log. */
export interface Caller {
  keyName: string;
  clientIp?: string;
  userAgent?: string;
}

const isActive = (s: SessionStatus) => ACTIVE_SESSION_STATUSES.includes(s);

/** Sessions: created row-first, started through the runner backend, and moved along by runner events. */
export class SessionService {
  /** Wakes `waitUntilSettled` callers in this process; other replicas' changes are seen by polling. */
  private readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(private readonly o: SessionServiceOptions) {}

  /** Checks what the schema cannot (the code URL's host and addresses); returns the request normalised. */
  async check(request: CreateSessionRequest): Promise<CreateSessionRequest> {
    return { ...request, code_url: await checkCodeUrl(request.code_url, this.o.codeUrlPolicy, this.o.resolveHost) };
  }

  /** Creates a session from a request that passed `check`. */
  async create(caller: Caller, request: CreateSessionRequest): Promise<{ row: SessionRow; token: IssuedToken }> {
    const codeUrl = request.code_url;
    const id = randomUUID();
    const { row, token } = await this.o.db.transaction(async (tx) => {
      await store.lockOwner(tx, caller.keyName);
      const active = await store.countActive(tx, caller.keyName);
      if (active >= this.o.maxActivePerKey) {
        throw new HttpError(429, `too many active sessions for this API key (${active} of ${this.o.maxActivePerKey}); wait for one to end or cancel one`);
      }
      const row = await store.insertSession(tx, {
        id,
        owner: caller.keyName,
        status: 'pending',
        code_url: codeUrl,
        command: request.command ?? this.o.defaultCommand,
        install_cmd: request.install_cmd ?? null,
        prompt: request.prompt ?? null,
        code_checksum_sha256: request.code_checksum_sha256?.toLowerCase() ?? null,
        env: request.env ?? {},
        client_ip: caller.clientIp ?? null,
        runner_backend: this.o.backend.kind,
        runner_credential: `cliscale:${randomBytes(24).toString('base64url')}`,
        expires_at: new Date(Date.now() + this.o.maxSeconds * 1000),
      });
      const token = await this.mintToken(tx, row, caller, 'interact');
      await recordAudit(tx, {
        event: 'session.created',
        sessionId: id,
        actor: caller.keyName,
        clientIp: caller.clientIp,
        userAgent: caller.userAgent,
        detail: { codeUrl, backend: this.o.backend.kind },
      });
      return { row, token };
    });
    this.o.metrics.sessionsCreated.inc();
    return { row: await this.launch(row), token };
  }

  /** The row exists before the runner does, so a runner can never be orphaned by a failed insert. */
  private async launch(row: SessionRow): Promise<SessionRow> {
    const started = Date.now();
    try {
      const { runnerName } = await this.o.backend.launch({
        sessionId: row.id,
        env: runnerEnv(row, this.o.codeUrlPolicy),
        deadlineSeconds: this.o.maxSeconds,
      });
      this.o.logger.info({ sessionId: row.id, runnerName, ms: Date.now() - started }, 'runner launched');
      return (await store.transition(this.o.db, row.id, ['pending'], { status: 'starting', runnerName })) ?? (await store.findSession(this.o.db, row.id))!;
    } catch (err) {
      const unavailable = err instanceof RunnerUnavailableError;
      const reason = `${unavailable ? 'runner backend unavailable' : 'the runner could not be created'}: ${(err as Error).message}`;
      this.o.logger.error({ sessionId: row.id, err }, 'runner launch failed');
      await this.finish(row.id, { sessionId: row.id, state: 'failed', reason });
      throw new HttpError(unavailable ? 503 : 500, reason, { sessionId: row.id }, unavailable ? { 'retry-after': '10' } : {});
    }
  }

  /** The session if `caller` owns it: 404 when it does not exist, 403 when it is someone else's. */
  async get(id: string, caller: Caller): Promise<SessionRow> {
    const row = await store.findSession(this.o.db, id);
    if (!row) throw new HttpError(404, `no session ${id}`);
    if (row.owner !== caller.keyName) throw new HttpError(403, 'this session belongs to another API key');
    return row;
  }

  list(caller: Caller, options: Parameters<typeof store.listSessions>[2]): Promise<store.Page> {
    return store.listSessions(this.o.db, caller.keyName, options);
  }

  async cancel(id: string, caller: Caller): Promise<SessionRow> {
    const row = await this.get(id, caller);
    const cancelled = isActive(row.status)
      ? await store.transition(this.o.db, id, ACTIVE_SESSION_STATUSES, { status: 'cancelled', failureReason: `cancelled by ${caller.keyName}` })
      : undefined;
    if (!cancelled) {
      const now = (await store.findSession(this.o.db, id))!;
      throw new HttpError(409, `session already ${now.status}`, { status: now.status });
    }
    await recordAudit(this.o.db, { event: 'session.cancelled', sessionId: id, actor: caller.keyName, clientIp: caller.clientIp, userAgent: caller.userAgent });
    this.changes.emit(id);
    try {
      await this.o.backend.cancel(id);
    } catch (err) {
      // The row says cancelled, so the reconciler stops the runner on its next pass.
      this.o.logger.warn({ sessionId: id, err }, 'runner cancel failed; the reconciler will retry');
    }
    return cancelled;
  }

  /** A fresh one-time token for a session that is still live. */
  async issueToken(id: string, caller: Caller, mode: AccessMode): Promise<{ row: SessionRow; token: IssuedToken }> {
    const row = await this.get(id, caller);
    if (!isActive(row.status)) throw new HttpError(409, `session already ${row.status}: there is no terminal to connect to`, { status: row.status });
    const token = await this.o.db.transaction((tx) => this.mintToken(tx, row, caller, mode));
    return { row, token };
  }

  private async mintToken(tx: Knex.Transaction, row: SessionRow, caller: Caller, mode: AccessMode): Promise<IssuedToken> {
    const token = await this.o.tokens.issue({ sessionId: row.id, subject: caller.keyName, mode });
    await store.insertToken(tx, { jti: token.jti, sessionId: row.id, mode, subject: caller.keyName, expiresAt: token.expiresAt });
    await recordAudit(tx, {
      event: 'token.issued',
      sessionId: row.id,
      actor: caller.keyName,
      clientIp: caller.clientIp,
      userAgent: caller.userAgent,
      detail: { mode, expiresAt: token.expiresAt.toISOString() },
    });
    return token;
  }

  /** Applies what a runner backend observed. Idempotent: repeated or late events change nothing. */
  async applyRunnerEvent(event: RunnerEvent): Promise<void> {
    if (FINISHED_RUNNER_STATES.has(event.state)) return this.finish(event.sessionId, event);
    const row =
      event.state === 'running' && event.endpoint
        ? await store.transition(this.o.db, event.sessionId, ['pending', 'starting'], {
            status: 'running',
            runnerName: event.runnerName,
            runnerHost: event.endpoint.host,
            runnerPort: event.endpoint.port,
          })
        : await store.transition(this.o.db, event.sessionId, ['pending'], { status: 'starting', runnerName: event.runnerName });
    if (row?.running_at) this.o.metrics.runnerStartSeconds.observe((row.running_at.getTime() - row.created_at.getTime()) / 1000);
    if (row) this.changes.emit(row.id);
  }

  private async finish(id: string, event: RunnerEvent): Promise<void> {
    const status = event.state as SessionStatus;
    const failureReason = event.reason ?? (status === 'failed' && event.exitCode !== undefined ? `the command exited with code ${event.exitCode}` : null);
    const row = await store.transition(this.o.db, id, ACTIVE_SESSION_STATUSES, { status, exitCode: event.exitCode ?? null, failureReason });
    if (!row) return;
    await recordAudit(this.o.db, { event: 'session.ended', sessionId: id, actor: row.owner, detail: { status, exitCode: row.exit_code, reason: failureReason } });
    this.o.logger.info({ sessionId: id, status, exitCode: row.exit_code, reason: failureReason }, 'session ended');
    this.changes.emit(id);
  }

  /** Resolves with the row once the session is running or finished, or as it is when `timeoutMs` runs out. */
  async waitUntilSettled(id: string, timeoutMs: number): Promise<SessionRow> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = (await store.findSession(this.o.db, id))!;
      const settled = row.status === 'running' || FINISHED_SESSION_STATUSES.includes(row.status);
      const left = deadline - Date.now();
      if (settled || left <= 0) return row;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.changes.off(id, wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 500));
        this.changes.on(id, wake);
      });
    }
  }
}
