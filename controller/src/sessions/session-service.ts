import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { ACTIVE_SESSION_STATUSES, recordAudit, sessionQueries as store, type AccessMode, type SessionRow, type SessionStatus } from '@cliscale/database';
import type { CreateSessionRequest } from '../http/api-schemas.js';
import type { ControllerMetrics } from '../http/metrics.js';
import { FINISHED_RUNNER_STATES, RunnerUnavailableError, type RunnerBackend, type RunnerEvent } from '../runners/runner-backend.js';
import type { IssuedToken, TokenIssuer } from '../tokens/token-issuer.js';
import { checkCodeUrl, type CodeUrlPolicy, type ResolveHost } from './code-url-policy.js';
import { runnerEnv } from './runner-env.js';
import { LaunchFailed, NotYourSession, SessionFinished, SessionNotFound, TooManyActiveSessions } from './session-errors.js';
import { SettledWaits, type SessionChangeFeed } from './settled-wait.js';

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
  /** Status change notifications (one LISTEN connection per controller), for `waitUntilSettled`. */
  changes: SessionChangeFeed;
}

/** Who is asking, for ownership checks and the audit log. */
export interface Caller {
  keyName: string;
  clientIp?: string;
  userAgent?: string;
}

const isActive = (s: SessionStatus) => ACTIVE_SESSION_STATUSES.includes(s);

/** Retry-After of a launch the backend could not take (it was unreachable). */
const RETRY_LAUNCH_AFTER_SECONDS = 10;

/**
 * Sessions: created row-first, started through the runner backend, and moved along by runner events.
 * Refusals are thrown as the errors of session-errors.ts; what they look like over HTTP is not decided here.
 */
export class SessionService {
  private readonly waits: SettledWaits;

  constructor(private readonly o: SessionServiceOptions) {
    this.waits = new SettledWaits(o.db, o.changes);
  }

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
        throw new TooManyActiveSessions(active, this.o.maxActivePerKey);
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
      throw new LaunchFailed(row.id, reason, unavailable ? RETRY_LAUNCH_AFTER_SECONDS : undefined);
    }
  }

  /** The session if `caller` owns it: SessionNotFound when it does not exist, NotYourSession when it is someone else's. */
  async get(id: string, caller: Caller): Promise<SessionRow> {
    const row = await store.findSession(this.o.db, id);
    if (!row) throw new SessionNotFound(id);
    if (row.owner !== caller.keyName) throw new NotYourSession(id);
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
      throw new SessionFinished(now.status);
    }
    await recordAudit(this.o.db, { event: 'session.cancelled', sessionId: id, actor: caller.keyName, clientIp: caller.clientIp, userAgent: caller.userAgent });
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
    if (!isActive(row.status)) throw new SessionFinished(row.status, 'there is no terminal to connect to');
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
  }

  private async finish(id: string, event: RunnerEvent): Promise<void> {
    const status = event.state as SessionStatus;
    const failureReason = event.reason ?? (status === 'failed' && event.exitCode !== undefined ? `the command exited with code ${event.exitCode}` : null);
    const row = await store.transition(this.o.db, id, ACTIVE_SESSION_STATUSES, { status, exitCode: event.exitCode ?? null, failureReason });
    if (!row) return;
    await recordAudit(this.o.db, { event: 'session.ended', sessionId: id, actor: row.owner, detail: { status, exitCode: row.exit_code, reason: failureReason } });
    this.o.logger.info({ sessionId: id, status, exitCode: row.exit_code, reason: failureReason }, 'session ended');
  }

  /** Resolves with the row once the session is running or finished, or as it is when `timeoutMs` runs out. */
  waitUntilSettled(id: string, timeoutMs: number): Promise<SessionRow> {
    return this.waits.until(id, timeoutMs);
  }

  /** Shutting down: waits in progress answer at once with the session as it is. */
  endWaits(): void {
    this.waits.endAll();
  }
}
