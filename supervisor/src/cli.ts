import { existsSync, mkdirSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { configOrExit } from '@cliscale/service-kit';
import { parseConfig, type SupervisorConfig } from './config.js';
import { StartFailure, Supervisor } from './supervisor.js';

/**
 * `cliscale-supervisor`: the process around a Supervisor. Configuration (exit 2 when it is wrong, 0 after
 * --help), HOME, logs, the process's signals and standard input; then it exits with the supervisor's code.
 */

const NAME = 'cliscale-supervisor';

/** In a runner pod HOME points into a fresh emptyDir: create it, as a login would, so tools that expect it work. */
function createHome(home: string | undefined): void {
  if (!home || existsSync(home)) return;
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch {
    // Not ours to create (read-only place): the command sees HOME as it is, as it would without us.
  }
}

function createLogger(level: string): Logger {
  const destination = pino.destination({ fd: 2, sync: true });
  // stderr may be a pipe to a parent that is gone (see --exit-with-stdin): logs are lost then, but the
  // supervisor must go on stopping its command rather than die of an EPIPE.
  destination.on('error', () => {});
  return pino({ name: NAME, level }, destination);
}

/** A parent that is killed (SIGKILL: no chance to stop its children) closes this pipe: hang up, as a terminal that goes away would. */
function hangUpWithStdin(supervisor: Supervisor, log: Logger): void {
  let hungUp = false;
  const hangUp = () => {
    if (hungUp) return;
    hungUp = true;
    supervisor.signal('SIGHUP');
    log.warn('standard input closed: the parent is gone; stopping');
  };
  process.stdin.on('data', () => {}).on('end', hangUp).on('close', hangUp).on('error', hangUp);
}

function announce(config: SupervisorConfig, port: number): void {
  if (!process.stderr.isTTY) return;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stderr.write(`${NAME}: serving "${config.command.display}" at http://${host}:${port}/ (${config.writable ? 'writable' : 'read-only'})\n`);
}

async function main(): Promise<never> {
  const config = configOrExit(NAME, () => parseConfig(process.argv.slice(2)));
  createHome(process.env.HOME);
  const log = createLogger(config.logLevel);
  const supervisor = new Supervisor(config, log);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => supervisor.signal(sig));
  if (config.exitWithStdin) hangUpWithStdin(supervisor, log);
  try {
    announce(config, await supervisor.start());
  } catch (err) {
    if (!(err instanceof StartFailure)) throw err;
    process.stderr.write(`${NAME}: ${err.message}\n`);
  }
  process.exit(await supervisor.exited);
}

await main();
