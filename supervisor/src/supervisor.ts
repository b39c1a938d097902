import { closeSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import type { Server } from 'node:http';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { encodeReadySignal, signalExitCode } from '@cliscale/runner-contract';
import { listen, loadStaticPage } from '@cliscale/service-kit';
import type { SupervisorConfig } from './config.js';
import { findExecutable } from './find-executable.js';
import { createSupervisorServer } from './http-server.js';
import { PreparationCancelled } from './prepare/phase-error.js';
import { runSessionLifecycle } from './session-lifecycle.js';
import { TerminalSession } from './terminal-session.js';
import { writeTerminationMessage } from './termination-message.js';

export interface SupervisorOptions {
  /** The browser terminal's built files (default: `page/` next to the bundle). */
  pageDir?: URL;
  /** The terminal model's worker script (default: `mirror-worker.js` next to the bundle). */
  workerUrl?: URL;
}

/** The supervisor could not start: `exitCode` is what it exits with (127: no such command, 1: cannot listen). */
export class StartFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * One supervisor's lifecycle: listen, then prepare the code and run the command on a terminal session, then
 * stop once its clients have the final output (or on signals). Its exit code comes out of `exited`; it never
 * exits the process itself (cli.ts does, and wires the process's signals and standard input to it).
 */
export class Supervisor {
  /** The supervisor's exit code: the command's, 128+N for signal N, or a preparation step's (see README). */
  readonly exited: Promise<number>;
  private resolveExited!: (code: number) => void;
  private readonly config: SupervisorConfig;
  private readonly pageDir: URL;
  private readonly workerUrl: URL;
  /** A code directory the supervisor made up is its own to remove at exit; one it was given stays. */
  private temporaryCodeDir?: string;
  private server?: Server;
  private session?: TerminalSession;
  private readonly cancelPreparation = new AbortController();
  private signals = 0;
  private stopping = false;
  private started = false;

  constructor(
    config: SupervisorConfig,
    private readonly log: Logger,
    options: SupervisorOptions = {},
  ) {
    this.config = { ...config, code: { ...config.code } };
    this.pageDir = options.pageDir ?? new URL('./page/', import.meta.url);
    this.workerUrl = options.workerUrl ?? new URL('./mirror-worker.js', import.meta.url);
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  /**
   * Listens, writes the ready signal, then starts preparing the code (when there is some) or the command.
   * Resolves with the port bound; rejects with a StartFailure (and `exited` resolves with its code).
   */
  async start(): Promise<number> {
    if (this.started) throw new Error('the supervisor was started already');
    this.started = true;
    if (this.stopping) throw new StartFailure('stopped before it started', await this.exited);
    const { config, log } = this;
    const program = config.command.argv[0]!;
    // Without code to fetch, a missing program is known at once: say so before listening. With code, the
    // program may come with it, so the check waits for the "starting" step (same exit code, in the terminal).
    if (!config.code.url && !findExecutable(program, config.cwd)) throw this.startFailed(`command not found: ${program}`, 127);
    if (config.code.url && !config.code.dir) config.code.dir = this.temporaryCodeDir = mkdtempSync(join(tmpdir(), 'cliscale-code-'));

    const server = createSupervisorServer({ config, log, page: loadStaticPage(this.pageDir), session: () => this.session });
    this.server = server;
    let port: number;
    try {
      // Listen first, then start the command: a command must not run if nobody could ever watch it.
      ({ port } = await listen(server, config.host, config.port));
    } catch (err) {
      const hint = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ` (port ${config.port} is in use; pick another with --port)` : '';
      throw this.startFailed(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}${hint}`, 1);
    }
    server.on('error', (err) => {
      log.error({ err: err.message }, 'server failed');
      this.shutdown(1);
    });
    if (this.stopping) {
      server.close();
      throw new StartFailure('stopped before it started', await this.exited);
    }

    const session = new TerminalSession(config, log, this.workerUrl);
    this.session = session;
    log.info({ host: config.host, port, writable: config.writable }, 'listening');
    if (config.readyFd !== undefined) this.signalReady(config.readyFd, port);
    session.on('drained', (exit) => this.shutdown(exit.code));
    const terminationPath = config.terminationMessagePath;
    if (terminationPath) {
      session.on('ended', (exit) => writeTerminationMessage(terminationPath, { exit, failure: session.failure, commandStarted: session.commandStarted }, log));
    }
    // With --no-exit, a command ended by our forwarded signal must not leave the supervisor serving: it was
    // asked to stop. (Without --no-exit, 'drained' follows once clients have the final output.)
    if (!config.exitOnJob) session.on('ended', (exit) => this.signals > 0 && this.shutdown(exit.code));
    void runSessionLifecycle(session, config, log, this.cancelPreparation.signal);
    return port;
  }

  /**
   * SIGTERM, SIGINT or SIGHUP for the supervisor: forwarded to the command's process group (a second one, or
   * a command still running --kill-after ms later, gets SIGKILL); a preparation in progress is cancelled.
   */
  signal(sig: NodeJS.Signals): void {
    this.signals++;
    const session = this.session;
    if (!session) return this.shutdown(signalExitCode(osConstants.signals[sig]));
    if (session.exit) return this.shutdown(session.exit.code); // --no-exit: the session is already over
    // Still fetching or installing: stop there (an install job also gets the signal below).
    if (session.phase !== 'running' && !this.cancelPreparation.signal.aborted) this.cancelPreparation.abort(new PreparationCancelled(sig));
    if (!session.job) return;
    const forwarded: NodeJS.Signals = this.signals > 1 ? 'SIGKILL' : sig;
    this.log.info({ signal: sig, forwarded }, 'forwarding signal to the command');
    session.signal(forwarded);
    if (this.signals === 1) {
      // An interactive shell ignores SIGTERM: a command that outlives the first signal for too long is killed.
      setTimeout(() => {
        if (session.job?.exit) return;
        this.log.warn({ afterMs: this.config.killAfterMs }, 'command outlived the signal; sending SIGKILL');
        session.signal('SIGKILL');
      }, this.config.killAfterMs).unref();
    }
  }

  /** Stops as on SIGTERM (a second call: SIGKILL for the command) and resolves with the exit code. */
  stop(): Promise<number> {
    this.signal('SIGTERM');
    return this.exited;
  }

  /** Tells the parent (local mode) where it can connect; a parent that stopped listening is no reason to stop. */
  private signalReady(fd: number, port: number): void {
    try {
      writeSync(fd, encodeReadySignal({ port }));
      closeSync(fd);
    } catch (err) {
      this.log.warn({ fd, err: (err as Error).message }, 'could not write the ready signal');
    }
  }

  private startFailed(message: string, exitCode: number): StartFailure {
    this.stopping = true;
    this.server?.close();
    this.removeTemporaryCodeDir();
    this.resolveExited(exitCode);
    return new StartFailure(message, exitCode);
  }

  private shutdown(code: number): void {
    if (this.stopping) return;
    this.stopping = true;
    this.server?.close();
    void (this.session?.close() ?? Promise.resolve()).finally(() => {
      // Connections still open (keep-alive, a request in flight) end with the supervisor, as they would at exit.
      this.server?.closeAllConnections();
      this.removeTemporaryCodeDir();
      this.resolveExited(code);
    });
  }

  private removeTemporaryCodeDir(): void {
    if (this.temporaryCodeDir) rmSync(this.temporaryCodeDir, { recursive: true, force: true });
  }
}
