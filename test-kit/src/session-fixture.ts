import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { ACTIVE_SESSION_STATUSES, sessionQueries, type AccessMode, type SessionRow, type SessionStatus } from '@cliscale/database';
import { signToken, startJwksServer, type JwksServer } from './jwks-server.js';
import { startSupervisor, type ProcessExit, type SupervisorProcess } from './supervisor-process.js';

/**
 * What the controller does for the gateway, done through the same contracts and nothing else, so that the
 * gateway's tests need no controller:
 *
 * - publishes the signing key's JWKS (`jwks.jwksUrl` is the gateway's JWKS_URL);
 * - writes `sessions` rows with a random runner credential (`cliscale:<random>`) via the database package;
 * - starts a session's runner: a real supervisor (test-kit's startSupervisor) given the runner contract's
 *   environment (COMMAND, CREDENTIAL, WRITABLE, EXIT_ON_JOB, EXIT_WITH_STDIN), then records it as running with
 *   its host and port through `sessionQueries.transition`, which NOTIFYs as the controller's does;
 * - records how the runner ended when it exits by itself, as the controller's local backend does: succeeded,
 *   or failed with the exit code and the supervisor's own one-line account (its TERMINATION_MESSAGE_PATH file,
 *   e.g. "the command exited with code 5") as the failure reason;
 * - mints terminal tokens: a `session_tokens` row, then a JWT with the controller's claims;
 * - ends sessions (cancelled, like DELETE /api/sessions/{id}, or any finished status) and stops their runners.
 *
 * The database belongs to the caller (createTestDatabase); `close()` stops the runners and the JWKS server.
 */

export interface NewFixtureSession {
  id?: string;
  owner?: string;
  /** Default 'starting': a row whose runner is on its way. */
  status?: SessionStatus;
  /** What the row says the command is (startRunner runs what it is given). */
  command?: string;
  runnerHost?: string | null;
  runnerPort?: number | null;
  /** Default: `cliscale:<48 random hex>`. */
  runnerCredential?: string;
  /** Default 3600. */
  expiresInSeconds?: number;
}

export interface TokenOptions {
  mode?: AccessMode;
  /** Default: the fixture's owner ('alice'). */
  subject?: string;
  /** Lifetime of the stored jti and the JWT's exp; default 300 (negative: already expired). */
  expiresInSeconds?: number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  mode: AccessMode;
  expiresAt: Date;
}

export interface RunnerOptions {
  /** Listen on this port (default: one the OS chooses). */
  port?: number;
  /** Record the session as running on this runner once it listens (default true; needs status pending or starting). */
  markRunning?: boolean;
  /** When the supervisor exits by itself, record the session as succeeded or failed (default true). */
  endOnExit?: boolean;
  /** More supervisor environment (e.g. SCROLLBACK). */
  env?: NodeJS.ProcessEnv;
}

export interface FixtureSession {
  sessionId: string;
  /** An interactive token for it, as POST /api/sessions answers. */
  token: string;
  runner: SupervisorProcess;
  credential: string;
}

export interface EndOptions {
  /** Default 'cancelled'. */
  status?: 'cancelled' | 'succeeded' | 'failed' | 'expired';
  exitCode?: number | null;
  /** Default for 'cancelled': "cancelled by <owner>", what the controller's DELETE records. */
  failureReason?: string | null;
}

interface Runner {
  sessionId: string;
  process: SupervisorProcess;
  /** Settles once its exit has been recorded (or not, when endOnExit is off). */
  recorded: Promise<void>;
}

export class SessionFixture {
  private readonly runners = new Set<Runner>();
  private closing = false;

  private constructor(
    readonly db: Knex,
    readonly jwks: JwksServer,
    /** Owner of new sessions and subject of new tokens. */
    readonly owner: string,
  ) {}

  /** Starts the JWKS server; sessions go into `db` (a migrated test database). */
  static async start(options: { db: Knex; owner?: string }): Promise<SessionFixture> {
    return new SessionFixture(options.db, await startJwksServer(), options.owner ?? 'alice');
  }

  /** Writes a sessions row as the controller's POST does (no runner yet unless runnerHost/runnerPort say so); returns its id. */
  async insertSession(fields: NewFixtureSession = {}): Promise<string> {
    const row = await sessionQueries.insertSession(this.db, {
      id: fields.id ?? randomUUID(),
      owner: fields.owner ?? this.owner,
      status: fields.status ?? 'starting',
      code_url: 'test-kit:session-fixture',
      command: fields.command ?? 'true',
      install_cmd: null,
      prompt: null,
      code_checksum_sha256: null,
      env: {},
      client_ip: '127.0.0.1',
      runner_backend: 'local',
      runner_credential: fields.runnerCredential ?? `cliscale:${randomBytes(24).toString('hex')}`,
      expires_at: new Date(Date.now() + (fields.expiresInSeconds ?? 3600) * 1000),
    });
    if (fields.runnerHost !== undefined || fields.runnerPort !== undefined) {
      await this.db('sessions').where({ id: row.id }).update({ runner_host: fields.runnerHost ?? null, runner_port: fields.runnerPort ?? null });
    }
    return row.id;
  }

  async session(sessionId: string): Promise<SessionRow> {
    const row = await sessionQueries.findSession(this.db, sessionId);
    if (!row) throw new Error(`no session ${sessionId}`);
    return row;
  }

  /**
   * Starts the session's runner: a supervisor running `command` with `/bin/sh -c` in a scratch folder,
   * writable, requiring the row's runner credential, ending with its command. Resolves once it listens and (markRunning) the row says
   * running on 127.0.0.1:<its port>.
   */
  async startRunner(sessionId: string, command: string, options: RunnerOptions = {}): Promise<SupervisorProcess> {
    const row = await this.session(sessionId);
    const dir = await mkdtemp(join(tmpdir(), 'cliscale-test-runner-'));
    const messageFile = join(dir, 'termination-message');
    const sup = await startSupervisor(options.port !== undefined ? ['--port', String(options.port)] : [], {
      env: {
        COMMAND: command,
        CREDENTIAL: row.runner_credential,
        WRITABLE: 'true',
        EXIT_ON_JOB: 'true',
        // Its stdin is a pipe from this process, as the controller's local runner does it: a test worker that
        // dies takes its supervisors with it.
        EXIT_WITH_STDIN: 'true',
        TERMINATION_MESSAGE_PATH: messageFile,
        // A scratch folder of its own (removed after it exits), as the controller's runs in the session's code.
        CWD: dir,
        ...options.env,
      },
      stdinPipe: true,
    }).catch(async (err: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw err;
    });
    const recorded = sup.exited
      .then(async (exit) => {
        if (options.endOnExit !== false) await this.recordExit(sessionId, exit, await readFile(messageFile, 'utf8').catch(() => ''));
      })
      .finally(() => rm(dir, { recursive: true, force: true }));
    const runner: Runner = { sessionId, process: sup, recorded };
    this.runners.add(runner);
    if (options.markRunning !== false) {
      const running = await sessionQueries.transition(this.db, sessionId, ['pending', 'starting'], {
        status: 'running',
        runnerName: `supervisor-${sessionId.slice(0, 8)}`,
        runnerHost: '127.0.0.1',
        runnerPort: sup.port,
      });
      if (!running) {
        await sup.stop();
        throw new Error(`session ${sessionId} is ${(await this.session(sessionId)).status}, not pending or starting: cannot mark it running`);
      }
    }
    return sup;
  }

  /** What the controller records when a runner ends by itself. */
  private async recordExit(sessionId: string, exit: ProcessExit, terminationMessage: string): Promise<void> {
    if (this.closing) return;
    // Read as the runner contract's terminationReason() does: control characters out, at most 1024 characters.
    const words = terminationMessage.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim().slice(0, 1024);
    const change =
      exit.code === 0
        ? { status: 'succeeded' as const, exitCode: 0, failureReason: null }
        : exit.code !== null
          ? { status: 'failed' as const, exitCode: exit.code, failureReason: words || `the command exited with code ${exit.code}` }
          : { status: 'failed' as const, exitCode: null, failureReason: `the supervisor was killed by ${exit.signal}` };
    // Undefined when the session had ended already (cancelled before its runner was stopped).
    await sessionQueries.transition(this.db, sessionId, ACTIVE_SESSION_STATUSES, change).catch(() => undefined);
  }

  /** Stores a jti for the session (what the controller does before handing out a token) and returns it. */
  async storeToken(sessionId: string, options: TokenOptions = {}): Promise<{ jti: string; mode: AccessMode; subject: string; expiresAt: Date }> {
    const jti = randomBytes(16).toString('base64url');
    const mode = options.mode ?? 'interact';
    const subject = options.subject ?? this.owner;
    const expiresAt = new Date(Date.now() + (options.expiresInSeconds ?? 300) * 1000);
    await sessionQueries.insertToken(this.db, { jti, sessionId, mode, subject, expiresAt });
    return { jti, mode, subject, expiresAt };
  }

  /** A one-time terminal token, as POST /api/sessions/{id}/tokens hands it out: stored jti, signed JWT. */
  async issueToken(sessionId: string, options: TokenOptions = {}): Promise<IssuedToken> {
    const stored = await this.storeToken(sessionId, options);
    const token = signToken({ sid: sessionId, jti: stored.jti, mode: stored.mode, sub: stored.subject, exp: options.expiresInSeconds ?? 300 });
    return { token, jti: stored.jti, mode: stored.mode, expiresAt: stored.expiresAt };
  }

  /**
   * POST /api/sessions?wait=ready without the controller: a row, its runner running `command` (recorded as
   * running), and an interactive token.
   */
  async createSession(command: string, options: { runner?: Omit<RunnerOptions, 'markRunning'> } = {}): Promise<FixtureSession> {
    const sessionId = await this.insertSession({ command });
    const runner = await this.startRunner(sessionId, command, options.runner);
    const { token } = await this.issueToken(sessionId);
    return { sessionId, token, runner, credential: (await this.session(sessionId)).runner_credential };
  }

  /**
   * Ends an active session as the controller does: records the final status (NOTIFY included), then stops
   * its runners. Returns the row as recorded, or undefined when the session had already ended.
   */
  async endSession(sessionId: string, options: EndOptions = {}): Promise<SessionRow | undefined> {
    const status = options.status ?? 'cancelled';
    const failureReason = options.failureReason !== undefined ? options.failureReason : status === 'cancelled' ? `cancelled by ${this.owner}` : null;
    const row = await sessionQueries.transition(this.db, sessionId, ACTIVE_SESSION_STATUSES, { status, exitCode: options.exitCode ?? null, failureReason });
    const mine = [...this.runners].filter((r) => r.sessionId === sessionId);
    await Promise.all(mine.map((r) => r.process.stop()));
    await Promise.all(mine.map((r) => r.recorded));
    return row;
  }

  /** Stops every runner it started (their exits are no longer recorded) and the JWKS server. Leaves the database. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.runners].map((r) => r.process.stop()));
    await Promise.all([...this.runners].map((r) => r.recorded));
    this.runners.clear();
    await this.jwks.close();
  }
}
