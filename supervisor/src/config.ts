import { Command, InvalidArgumentError, Option } from 'commander';
import { CODE_SWITCHES, CODE_VALUE_OPTIONS, integer, toCodeConfig, type CodeConfig } from './config-code.js';
import { readdirSync, statSync } from 'node:fs';
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
  /** Standard input is a pipe from a parent process: its end means the parent is gone. */
  exitWithStdin: boolean;
  pingIntervalMs: number;
  maxMessageBytes: number;
  clientQueueBytes: number;
  parseBacklogBytes: number;
  exitFlushTimeoutMs: number;
  killAfterMs: number;
  logLevel: string;
  /** An inherited file descriptor: once listening, the ready signal (runner contract) is written there. */
  readyFd?: number;
  /** Where the session's one-line outcome is written when it ends (Kubernetes' terminationMessagePath). */
  terminationMessagePath?: string;
  /** The code to fetch and install before the command starts (the command then runs in its directory). */
  code: CodeConfig;
}

export class ConfigError extends Error {}

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

interface ValueOption {
  flags: string;
  key: string;
  env: string;
  description: string;
  default?: unknown;
  defaultText?: string;
  parse?: (raw: string) => unknown;
  choices?: string[];
}

/** Options that take a value: from a flag, else from the environment variable, else the default. */
const VALUE_OPTIONS: ValueOption[] = [
  { flags: '-p, --port <port>', key: 'port', env: 'PORT', description: 'port to listen on (0: any free port)', default: 7681, parse: integer(0, 65535) },
  { flags: '-i, --host <address>', key: 'host', env: 'HOST', description: 'address to bind (0.0.0.0 in a pod)', default: '127.0.0.1' },
  { flags: '-c, --credential <user:password>', key: 'credential', env: 'CREDENTIAL', description: 'require HTTP Basic auth / AuthToken, like ttyd -c', parse: credential },
  { flags: '--scrollback <lines>', key: 'scrollback', env: 'SCROLLBACK', description: 'lines of history kept for replay', default: 100_000, parse: integer(0, 1_000_000) },
  { flags: '-w, --cwd <dir>', key: 'cwd', env: 'CWD', description: 'working directory of the command (default: the current one)' },
  { flags: '-m, --max-clients <n>', key: 'maxClients', env: 'MAX_CLIENTS', description: 'concurrent WebSocket clients allowed', default: 100, parse: integer(1, 10_000) },
  { flags: '-T, --terminal-type <term>', key: 'terminalType', env: 'TERM_TYPE', description: 'TERM for the command', default: 'xterm-256color' },
  { flags: '--size <cols>x<rows>', key: 'size', env: 'TERMINAL_SIZE', description: 'terminal size until a client sends its own', default: { columns: 80, rows: 24 }, defaultText: '80x24', parse: size },
  { flags: '-P, --ping-interval <seconds>', key: 'pingInterval', env: 'PING_INTERVAL', description: 'WebSocket ping interval; a peer silent for 2 intervals is dropped', default: 5, parse: integer(1, 3600) },
  { flags: '--max-message-bytes <n>', key: 'maxMessageBytes', env: 'MAX_MESSAGE_BYTES', description: 'largest message accepted from a client', default: 1 << 20, parse: integer(1024, 64 << 20) },
  { flags: '--client-queue-bytes <n>', key: 'clientQueueBytes', env: 'CLIENT_QUEUE_BYTES', description: 'output queued for one slow client before it is resynchronised by a replay', default: 8 << 20, parse: integer(64 << 10, 1 << 30) },
  // xterm.js throws away writes once ~50M characters are pending, so the bound stays below that.
  { flags: '--parse-backlog-bytes <n>', key: 'parseBacklogBytes', env: 'PARSE_BACKLOG_BYTES', description: 'output not yet parsed by the terminal model before the command is paused', default: 16 << 20, parse: integer(1 << 20, 40 << 20) },
  { flags: '--exit-flush-timeout <ms>', key: 'exitFlushTimeout', env: 'EXIT_FLUSH_TIMEOUT_MS', description: 'how long to wait for clients to receive the final output', default: 10_000, parse: integer(0, 600_000) },
  { flags: '--kill-after <ms>', key: 'killAfter', env: 'KILL_AFTER_MS', description: 'after forwarding SIGTERM/SIGINT/SIGHUP, SIGKILL the command if it is still running this much later', default: 10_000, parse: integer(0, 3_600_000) },
  { flags: '--ready-fd <fd>', key: 'readyFd', env: 'READY_FD', description: 'inherited file descriptor to write a one-line ready signal to once listening (for a parent process)', parse: integer(3, 65535) },
  { flags: '--termination-message-path <file>', key: 'terminationMessagePath', env: 'TERMINATION_MESSAGE_PATH', description: 'file that receives one line saying how the session ended (for the controller)' },
  { flags: '--log-level <level>', key: 'logLevel', env: 'LOG_LEVEL', description: 'log level', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  ...CODE_VALUE_OPTIONS,
];

/** Switches: a flag turns them on (or off, for --no-exit); otherwise the environment variable decides. */
const SWITCHES = [
  { flags: '-W, --writable', key: 'writable', env: 'WRITABLE', description: 'accept input from clients (default: read-only, like ttyd)', flagValue: true, default: false },
  { flags: '--no-exit', key: 'exit', env: 'EXIT_ON_JOB', description: 'keep serving the final screen after the command ends', flagValue: false, default: true },
  { flags: '-O, --check-origin', key: 'checkOrigin', env: 'CHECK_ORIGIN', description: 'refuse WebSocket upgrades whose Origin is not the Host', flagValue: true, default: false },
  { flags: '--exit-with-stdin', key: 'exitWithStdin', env: 'EXIT_WITH_STDIN', description: 'stop as on SIGHUP when standard input closes (a parent that dies takes the supervisor with it)', flagValue: true, default: false },
  ...CODE_SWITCHES,
];

function buildProgram(): Command {
  const program = new Command('cliscale-supervisor')
    .description(
      "Run one command in a pseudo-terminal and share it with any number of browser or ttyd clients over ttyd's " +
        'WebSocket protocol. Clients that (re)connect get the whole terminal replayed.',
    )
    .usage('[options] -- <command...>')
    .argument('[command...]', 'command and arguments (or env COMMAND, run with /bin/sh -c)');
  for (const o of VALUE_OPTIONS) {
    const option = new Option(o.flags, `${o.description} (env: ${o.env})`);
    if (o.parse) option.argParser(o.parse);
    if (o.choices) option.choices(o.choices);
    if (o.default !== undefined) option.default(o.default, o.defaultText);
    program.addOption(option);
  }
  for (const s of SWITCHES) program.addOption(new Option(s.flags, `${s.description} (env: ${s.env}=true|false)`));
  program.addOption(new Option('-t, --client-option <key=value>', 'preference sent to clients (ttyd -t); repeatable').argParser(clientOption));
  return program.addHelpText(
    'after',
    '\nExamples:\n  cliscale-supervisor -W -- bash\n  COMMAND="npm test" PORT=7681 HOST=0.0.0.0 cliscale-supervisor\n\n' +
      "The supervisor exits with the command's exit code (128+N when signal N ended it).",
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

/** Flags win; then the environment; then defaults. Environment values go through the same parsers. */
function toConfig(program: Command, env: NodeJS.ProcessEnv): SupervisorConfig {
  const o: Record<string, any> = { ...program.opts() };
  const fromCli = (key: string) => program.getOptionValueSource(key) === 'cli';
  for (const opt of VALUE_OPTIONS) {
    const raw = env[opt.env];
    if (fromCli(opt.key) || raw === undefined || raw === '') continue;
    if (opt.choices && !opt.choices.includes(raw)) {
      throw new ConfigError(`${opt.env} must be one of ${opt.choices.join(', ')}, got "${raw}"`);
    }
    try {
      o[opt.key] = opt.parse ? opt.parse(raw) : raw;
    } catch (err) {
      throw new ConfigError(`${opt.env}: ${(err as Error).message}`);
    }
  }
  for (const sw of SWITCHES) {
    o[sw.key] = fromCli(sw.key) ? sw.flagValue : parseBool(sw.env, env[sw.env] ?? String(sw.default));
  }

  let command: SupervisorConfig['command'];
  if (program.args.length > 0) {
    command = { argv: program.args, display: program.args.join(' ') };
  } else if (env.COMMAND && env.COMMAND.trim() !== '') {
    // A command line from the environment is a shell program by nature; it is passed to sh as one argument,
    // never spliced into another string.
    command = { argv: ['/bin/sh', '-c', env.COMMAND], display: env.COMMAND };
  } else {
    throw new ConfigError('no command given: pass it after "--" or set COMMAND');
  }

  const code = toCodeConfig(o, fromCli('installCmd') || env.INSTALL_CMD !== undefined);
  if (code.url && (fromCli('cwd') || env.CWD)) {
    throw new ConfigError('--cwd and --code-url exclude each other: the command runs in the code directory (--code-dir)');
  }
  if (code.dir && !isEmptyOrAbsent(code.dir)) {
    throw new ConfigError(`code directory "${code.dir}" is not empty: the code is fetched into an empty directory`);
  }

  const cwd = resolve(o.cwd ?? process.cwd());
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ConfigError(`working directory "${cwd}" does not exist or is not a directory`);

  return {
    command,
    port: o.port,
    host: o.host,
    writable: o.writable,
    credential: o.credential,
    scrollback: o.scrollback,
    cwd,
    maxClients: o.maxClients,
    exitOnJob: o.exit,
    terminalType: o.terminalType,
    columns: o.size.columns,
    rows: o.size.rows,
    clientOptions: (o.clientOption as Record<string, unknown> | undefined) ?? {},
    checkOrigin: o.checkOrigin,
    exitWithStdin: o.exitWithStdin,
    pingIntervalMs: o.pingInterval * 1000,
    maxMessageBytes: o.maxMessageBytes,
    clientQueueBytes: o.clientQueueBytes,
    parseBacklogBytes: o.parseBacklogBytes,
    exitFlushTimeoutMs: o.exitFlushTimeout,
    killAfterMs: o.killAfter,
    logLevel: o.logLevel,
    ...(o.readyFd !== undefined && { readyFd: o.readyFd }),
    ...(o.terminationMessagePath && { terminationMessagePath: resolve(o.terminationMessagePath) }),
    code,
  };
}

function isEmptyOrAbsent(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Every environment variable the supervisor reads for itself. The controller refuses these as a session's
 * extra `env`, so a caller cannot reconfigure the runner (its port, credential, code limits) through it.
 */
export const SUPERVISOR_ENV_NAMES: readonly string[] = [
  'COMMAND',
  ...VALUE_OPTIONS.map((o) => o.env),
  ...SWITCHES.map((s) => s.env),
];
