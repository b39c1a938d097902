import { Command, InvalidArgumentError, Option } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_COLUMNS, MAX_ROWS } from '@cliscale/protocol';

/** Everything the supervisor needs, validated. Built from CLI flags, falling back to environment variables. */
export interface SupervisorConfig {
  /** argv to run directly, or a shell command line (from COMMAND) run with `/bin/sh -c`. */
  command: { argv: string[]; display: string };
  port: number;
  host: string;
  writable: boolean;
  /** `user:pass` as given to ttyd's `-c`; undefined when no authentication is required. */
  credential?: string;
  scrollback: number;
  cwd: string;
  maxClients: number;
  exitOnJob: boolean;
  terminalType: string;
  columns: number;
  rows: number;
  clientOptions: Record<string, unknown>;
  checkOrigin: boolean;
  pingIntervalMs: number;
  maxMessageBytes: number;
  clientQueueBytes: number;
  parseBacklogBytes: number;
  exitFlushTimeoutMs: number;
  logLevel: string;
}

export class ConfigError extends Error {}

function integer(min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer between ${min} and ${max}, got "${raw}"`);
    }
    return value;
  };
}

function size(raw: string): { columns: number; rows: number } {
  const match = /^(\d+)x(\d+)$/.exec(raw.trim());
  const columns = Number(match?.[1]);
  const rows = Number(match?.[2]);
  if (!match || columns < 1 || columns > MAX_COLUMNS || rows < 1 || rows > MAX_ROWS) {
    throw new InvalidArgumentError(`expected COLUMNSxROWS within ${MAX_COLUMNS}x${MAX_ROWS}, got "${raw}"`);
  }
  return { columns, rows };
}

function credential(raw: string): string {
  const colon = raw.indexOf(':');
  if (colon < 1 || colon === raw.length - 1) throw new InvalidArgumentError('expected user:password');
  return raw;
}

/** ttyd's `-t key=value`: the value is JSON when it parses as JSON, otherwise a string. */
function clientOption(raw: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = raw.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError(`expected key=value, got "${raw}"`);
  const key = raw.slice(0, eq);
  const text = raw.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Plain strings are the common case (`-t titleFixed=build`).
  }
  return { ...previous, [key]: value };
}

function parseBool(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function buildProgram(): Command {
  return new Command('cliscale-supervisor')
    .description(
      'Run one command in a pseudo-terminal and share it with any number of browser or ttyd clients over\n' +
        "ttyd's WebSocket protocol. Clients that (re)connect get the whole terminal replayed.",
    )
    .usage('[options] -- <command...>')
    .argument('[command...]', 'command and arguments (or env COMMAND, run with /bin/sh -c)')
    .addOption(new Option('-p, --port <port>', 'port to listen on (0: any free port)').env('PORT').default(7681).argParser(integer(0, 65535)))
    .addOption(new Option('-i, --host <address>', 'address to bind (0.0.0.0 in a pod)').env('HOST').default('127.0.0.1'))
    .addOption(new Option('-W, --writable', 'accept input from clients (env WRITABLE=true|false; default read-only)'))
    .addOption(new Option('-c, --credential <user:password>', 'require HTTP Basic auth / AuthToken, like ttyd -c').env('CREDENTIAL').argParser(credential))
    .addOption(new Option('--scrollback <lines>', 'lines of history kept for replay').env('SCROLLBACK').default(100_000).argParser(integer(0, 1_000_000)))
    .addOption(new Option('-w, --cwd <dir>', 'working directory of the command').env('CWD'))
    .addOption(new Option('-m, --max-clients <n>', 'concurrent WebSocket clients allowed').env('MAX_CLIENTS').default(100).argParser(integer(1, 10_000)))
    .addOption(new Option('--no-exit', 'keep serving the final screen after the command ends (env EXIT_ON_JOB=false)'))
    .addOption(new Option('-T, --terminal-type <term>', 'TERM for the command').env('TERM_TYPE').default('xterm-256color'))
    .addOption(new Option('--size <cols>x<rows>', 'terminal size until a client sends its own').env('TERMINAL_SIZE').default({ columns: 80, rows: 24 }, '80x24').argParser(size))
    .addOption(new Option('-t, --client-option <key=value>', "preference sent to clients (ttyd -t); repeatable").argParser(clientOption))
    .addOption(new Option('-O, --check-origin', 'refuse WebSocket upgrades whose Origin is not the Host (env CHECK_ORIGIN=true)'))
    .addOption(new Option('-P, --ping-interval <seconds>', 'WebSocket ping interval; a peer silent for 2 intervals is dropped').env('PING_INTERVAL').default(5).argParser(integer(1, 3600)))
    .addOption(new Option('--max-message-bytes <n>', 'largest message accepted from a client').env('MAX_MESSAGE_BYTES').default(1 << 20).argParser(integer(1024, 64 << 20)))
    .addOption(new Option('--client-queue-bytes <n>', 'output queued for one slow client before it is resynchronised by a replay').env('CLIENT_QUEUE_BYTES').default(8 << 20).argParser(integer(64 << 10, 1 << 30)))
    .addOption(new Option('--parse-backlog-bytes <n>', 'output not yet parsed by the terminal model before the command is paused').env('PARSE_BACKLOG_BYTES').default(32 << 20).argParser(integer(1 << 20, 40 << 20)))
    .addOption(new Option('--exit-flush-timeout <ms>', 'how long to wait for clients to receive the final output').env('EXIT_FLUSH_TIMEOUT_MS').default(10_000).argParser(integer(0, 600_000)))
    .addOption(new Option('--log-level <level>', 'log level').env('LOG_LEVEL').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .addHelpText(
      'after',
      '\nExamples:\n  cliscale-supervisor -W -- bash\n  COMMAND="npm test" PORT=7681 HOST=0.0.0.0 cliscale-supervisor\n\n' +
        'The supervisor exits with the command\'s exit code (128+N when a signal ended it).',
    );
}

/** Parses argv (without node and script) and env. Throws ConfigError with a message meant for a person. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): SupervisorConfig {
  const program = buildProgram();
  program.exitOverride().configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') throw err;
    throw new ConfigError(e.message.replace(/^error: /, ''));
  }
  return toConfig(program, env);
}

export function helpText(): string {
  return buildProgram().helpInformation();
}

function toConfig(program: Command, env: NodeJS.ProcessEnv): SupervisorConfig {
  const o = program.opts();
  const args = program.args;
  const fromCli = (key: string) => program.getOptionValueSource(key) === 'cli';

  let command: SupervisorConfig['command'];
  if (args.length > 0) {
    command = { argv: args, display: args.join(' ') };
  } else if (env.COMMAND && env.COMMAND.trim() !== '') {
    // A command line from the environment is a shell program by nature; it is passed to sh as one argument,
    // never spliced into another string.
    command = { argv: ['/bin/sh', '-c', env.COMMAND], display: env.COMMAND };
  } else {
    throw new ConfigError('no command given: pass it after "--" or set COMMAND');
  }

  const cwd = resolve(o.cwd ?? process.cwd());
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ConfigError(`working directory "${cwd}" does not exist or is not a directory`);

  const writable = fromCli('writable') ? true : parseBool('WRITABLE', env.WRITABLE ?? 'false');
  const exitOnJob = fromCli('exit') ? false : parseBool('EXIT_ON_JOB', env.EXIT_ON_JOB ?? 'true');
  const checkOrigin = fromCli('checkOrigin') ? true : parseBool('CHECK_ORIGIN', env.CHECK_ORIGIN ?? 'false');
  const clientOptions = (o.clientOption as Record<string, unknown> | undefined) ?? {};

  return {
    command,
    port: o.port,
    host: o.host,
    writable,
    credential: o.credential,
    scrollback: o.scrollback,
    cwd,
    maxClients: o.maxClients,
    exitOnJob,
    terminalType: o.terminalType,
    columns: o.size.columns,
    rows: o.size.rows,
    clientOptions,
    checkOrigin,
    pingIntervalMs: o.pingInterval * 1000,
    maxMessageBytes: o.maxMessageBytes,
    clientQueueBytes: o.clientQueueBytes,
    parseBacklogBytes: o.parseBacklogBytes,
    exitFlushTimeoutMs: o.exitFlushTimeout,
    logLevel: o.logLevel,
  };
}
