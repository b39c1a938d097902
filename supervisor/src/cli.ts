import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { pino } from 'pino';
import { ConfigError, parseConfig, type SupervisorConfig } from './config.js';
import { createSupervisorServer } from './http-server.js';
import { loadStaticPage } from './static-page.js';
import { TerminalSession } from './terminal-session.js';

const NAME = 'cliscale-supervisor';

function fail(message: string, code: number): never {
  process.stderr.write(`${NAME}: ${message}\n`);
  process.exit(code);
}

/** Like the shell's lookup, so a missing program is reported clearly instead of as execvp's errno text. */
function findExecutable(file: string, cwd: string): string | undefined {
  const candidates = file.includes('/')
    ? [isAbsolute(file) ? file : join(cwd, file)]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, file));
  return candidates.find((c) => {
    try {
      accessSync(c, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
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
if (!findExecutable(config.command.argv[0]!, config.cwd)) fail(`command not found: ${config.command.argv[0]}`, 127);

const log = pino({ name: NAME, level: config.logLevel }, pino.destination({ fd: 2, sync: true }));
let session: TerminalSession | undefined;
const server = createSupervisorServer({
  config,
  log,
  page: loadStaticPage(new URL('./page/', import.meta.url)),
  session: () => session,
});

server.on('error', (err: NodeJS.ErrnoException) => {
  const hint = err.code === 'EADDRINUSE' ? ` (port ${config.port} is in use; pick another with --port)` : '';
  fail(`cannot listen on ${config.host}:${config.port}: ${err.message}${hint}`, 1);
});

// Listen first, then start the command: a command must not run if nobody could ever watch it.
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  session = new TerminalSession(config, log, new URL('./mirror-worker.js', import.meta.url));
  log.info({ host: config.host, port, writable: config.writable }, 'listening');
  if (process.stderr.isTTY) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    process.stderr.write(`${NAME}: serving "${config.command.display}" at http://${host}:${port}/ (${config.writable ? 'writable' : 'read-only'})\n`);
  }
  session.on('drained', (exit) => shutdown(exit.code));
});

let signals = 0;
let stopping = false;
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  server.close();
  void (session?.close() ?? Promise.resolve()).finally(() => process.exit(code));
}

function onSignal(sig: NodeJS.Signals): void {
  signals++;
  if (!session) return shutdown(128 + osConstants.signals[sig]);
  if (session.job.exit) return shutdown(session.job.exit.code); // --no-exit: the command is already done
  // A second signal means "now": the command's group gets SIGKILL. So does a command that ignores the first
  // one for too long (an interactive shell ignores SIGTERM).
  const forwarded: NodeJS.Signals = signals > 1 ? 'SIGKILL' : sig;
  log.info({ signal: sig, forwarded }, 'forwarding signal to the command');
  session.signal(forwarded);
  if (signals === 1) {
    const current = session;
    setTimeout(() => {
      if (current.job.exit) return;
      log.warn({ afterMs: config.killAfterMs }, 'command outlived the signal; sending SIGKILL');
      current.signal('SIGKILL');
    }, config.killAfterMs).unref();
  }
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => onSignal(sig));
