import { closeSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ConfigError, parseConfig, type SupervisorConfig } from './config.js';
import { findExecutable } from './find-executable.js';
import { createSupervisorServer } from './http-server.js';
import { PreparationCancelled } from './prepare/phase-error.js';
import { runSessionLifecycle } from './session-lifecycle.js';
import { encodeReadySignal } from '@cliscale/runner-contract';
import { loadStaticPage } from '@cliscale/service-kit';
import { TerminalSession } from './terminal-session.js';
import { writeTerminationMessage } from './termination-message.js';

const NAME = 'cliscale-supervisor';

function fail(message: string, code: number): never {
  process.stderr.write(`${NAME}: ${message}\n`);
  process.exit(code);
}

function loadConfig(): SupervisorConfig {
  try {
    return parseConfig(process.argv.slice(2));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    if (err instanceof ConfigError) fail(`${err.message}\nRun "${NAME} --help" for usage.`, 2);
    throw err;
  }
}

const config = loadConfig();
// In a runner pod HOME points into a fresh emptyDir: create it, as a login would, so tools that expect it work.
const home = process.env.HOME;
if (home && !existsSync(home)) {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch {
    // Not ours to create (read-only place): the command sees HOME as it is, as it would without us.
  }
}
// A code directory the supervisor made up is its own to remove at exit; one it was given stays.
const temporaryCodeDir = config.code.url && !config.code.dir ? mkdtempSync(join(tmpdir(), 'cliscale-code-')) : undefined;
config.code.dir ??= temporaryCodeDir;
// Without code to fetch, a missing program is known at once: say so before listening. With code, the program
// may come with it, so the check waits for the "starting" step (same exit code, printed in the terminal).
if (!config.code.url && !findExecutable(config.command.argv[0]!, config.cwd)) fail(`command not found: ${config.command.argv[0]}`, 127);

const logDestination = pino.destination({ fd: 2, sync: true });
// stderr may be a pipe to a parent that is gone (see --exit-with-stdin): logs are lost then, but the
// supervisor must go on stopping its command rather than die of an EPIPE.
logDestination.on('error', () => {});
const log = pino({ name: NAME, level: config.logLevel }, logDestination);
let session: TerminalSession | undefined;
const cancelPreparation = new AbortController();
const server = createSupervisorServer({
  config,
  log,
  page: loadStaticPage(new URL('./page/', import.meta.url)),
  session: () => session,
});

server.on('error', (err: NodeJS.ErrnoException) => {
  const hint = err.code === 'EADDRINUSE' ? ` (port ${config.port} is in use; pick another with --port)` : '';
  if (temporaryCodeDir) rmSync(temporaryCodeDir, { recursive: true, force: true });
  fail(`cannot listen on ${config.host}:${config.port}: ${err.message}${hint}`, 1);
});

// Listen first, then start the command: a command must not run if nobody could ever watch it.
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  session = new TerminalSession(config, log, new URL('./mirror-worker.js', import.meta.url));
  log.info({ host: config.host, port, writable: config.writable }, 'listening');
  if (config.readyFd !== undefined) signalReady(config.readyFd, port);
  void runSessionLifecycle(session, config, log, cancelPreparation.signal);
  if (process.stderr.isTTY) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    process.stderr.write(`${NAME}: serving "${config.command.display}" at http://${host}:${port}/ (${config.writable ? 'writable' : 'read-only'})\n`);
  }
  session.on('drained', (exit) => shutdown(exit.code));
  const terminationPath = config.terminationMessagePath;
  if (terminationPath) {
    const ended = session;
    ended.on('ended', (exit) => writeTerminationMessage(terminationPath, { exit, failure: ended.failure, commandStarted: ended.commandStarted }, log));
  }
  // With --no-exit, a command ended by our forwarded signal must not leave the supervisor serving: it was
  // asked to stop. (Without --no-exit, 'drained' follows once clients have the final output.)
  if (!config.exitOnJob) session.on('ended', (exit) => signals > 0 && shutdown(exit.code));
});

/** Tells the parent (local mode) where it can connect; a parent that stopped listening is no reason to stop. */
function signalReady(fd: number, port: number): void {
  try {
    writeSync(fd, encodeReadySignal({ port }));
    closeSync(fd);
  } catch (err) {
    log.warn({ fd, err: (err as Error).message }, 'could not write the ready signal');
  }
}

let signals = 0;
let stopping = false;
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  server.close();
  void (session?.close() ?? Promise.resolve()).finally(() => {
    if (temporaryCodeDir) rmSync(temporaryCodeDir, { recursive: true, force: true });
    process.exit(code);
  });
}

function onSignal(sig: NodeJS.Signals): void {
  signals++;
  if (!session) return shutdown(128 + osConstants.signals[sig]);
  if (session.exit) return shutdown(session.exit.code); // --no-exit: the session is already over
  // Still fetching or installing: stop there (an install job also gets the signal below).
  if (session.phase !== 'running' && !cancelPreparation.signal.aborted) cancelPreparation.abort(new PreparationCancelled(sig));
  if (!session.job) return;
  // A second signal means "now": the command's group gets SIGKILL. So does a command that ignores the first
  // one for too long (an interactive shell ignores SIGTERM).
  const forwarded: NodeJS.Signals = signals > 1 ? 'SIGKILL' : sig;
  log.info({ signal: sig, forwarded }, 'forwarding signal to the command');
  session.signal(forwarded);
  if (signals === 1) {
    const current = session;
    setTimeout(() => {
      if (current.job?.exit) return;
      log.warn({ afterMs: config.killAfterMs }, 'command outlived the signal; sending SIGKILL');
      current.signal('SIGKILL');
    }, config.killAfterMs).unref();
  }
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => onSignal(sig));

// A parent that is killed (SIGKILL: no chance to stop its children) closes this pipe: hang up, as a terminal
// that goes away would, rather than leave the command running with nobody to stop it.
if (config.exitWithStdin) {
  let hungUp = false;
  const hangUp = () => {
    if (hungUp) return;
    hungUp = true;
    onSignal('SIGHUP');
    log.warn('standard input closed: the parent is gone; stopping');
  };
  process.stdin.on('data', () => {}).on('end', hangUp).on('close', hangUp).on('error', hangUp);
}
