import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { z } from 'zod';
import { SUPERVISOR_ENV as E } from '@cliscale/runner-contract';
import { bool, ConfigError, flagsAsEnv, logLevel, parseEnv } from '@cliscale/service-kit';
import { CODE_FLAGS, CODE_SWITCHES, CODE_VARIABLES, toCodeConfig, type CodeConfig } from './config-code.js';
import { buildProgram, switchesAsEnv, valueFlagVariables, type SwitchFlag, type ValueFlag } from './config-program.js';
import { clientOption, credential, integer, terminalSize } from './config-values.js';

export { ConfigError };

/** Everything the supervisor needs, validated. Built from environment variables, with flags laid over them. */
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

/** Every variable the supervisor reads, named by the runner contract (a test checks the two agree). */
export const SUPERVISOR_VARIABLES = z
  .object({
    [E.command]: z.string().optional(),
    [E.port]: integer(0, 65535).default(7681),
    [E.host]: z.string().default('127.0.0.1'),
    [E.credential]: credential.optional(),
    [E.scrollback]: integer(0, 1_000_000).default(100_000),
    [E.cwd]: z.string().optional(),
    [E.maxClients]: integer(1, 10_000).default(100),
    [E.terminalType]: z.string().default('xterm-256color'),
    [E.terminalSize]: terminalSize.default({ columns: 80, rows: 24 }),
    [E.pingInterval]: integer(1, 3600).default(5),
    [E.maxMessageBytes]: integer(1024, 64 << 20).default(1 << 20),
    [E.clientQueueBytes]: integer(64 << 10, 1 << 30).default(8 << 20),
    // xterm.js throws away writes once ~50M characters are pending, so the bound stays below that.
    [E.parseBacklogBytes]: integer(1 << 20, 40 << 20).default(16 << 20),
    [E.exitFlushTimeoutMs]: integer(0, 600_000).default(10_000),
    [E.killAfterMs]: integer(0, 3_600_000).default(10_000),
    [E.readyFd]: integer(3, 65535).optional(),
    [E.terminationMessagePath]: z.string().optional(),
    [E.logLevel]: logLevel,
    [E.writable]: bool.default(false),
    [E.exitOnJob]: bool.default(true),
    [E.checkOrigin]: bool.default(false),
    [E.exitWithStdin]: bool.default(false),
  })
  .extend(CODE_VARIABLES.shape);

const VALUE_FLAGS: ValueFlag[] = [
  { setting: 'port', flags: '-p, --port <port>', description: 'port to listen on (0: any free port)' },
  { setting: 'host', flags: '-i, --host <address>', description: 'address to bind (0.0.0.0 in a pod)' },
  { setting: 'credential', flags: '-c, --credential <user:password>', description: 'require HTTP Basic auth / AuthToken, like ttyd -c' },
  { setting: 'scrollback', flags: '--scrollback <lines>', description: 'lines of history kept for replay' },
  { setting: 'cwd', flags: '-w, --cwd <dir>', description: 'working directory of the command (default: the current one)' },
  { setting: 'maxClients', flags: '-m, --max-clients <n>', description: 'concurrent WebSocket clients allowed' },
  { setting: 'terminalType', flags: '-T, --terminal-type <term>', description: 'TERM for the command' },
  { setting: 'terminalSize', flags: '--size <cols>x<rows>', description: 'terminal size until a client sends its own', defaultText: '80x24' },
  { setting: 'pingInterval', flags: '-P, --ping-interval <seconds>', description: 'WebSocket ping interval; a peer silent for 2 intervals is dropped' },
  { setting: 'maxMessageBytes', flags: '--max-message-bytes <n>', description: 'largest message accepted from a client' },
  { setting: 'clientQueueBytes', flags: '--client-queue-bytes <n>', description: 'output queued for one slow client before it is resynchronised by a replay' },
  { setting: 'parseBacklogBytes', flags: '--parse-backlog-bytes <n>', description: 'output not yet parsed by the terminal model before the command is paused' },
  { setting: 'exitFlushTimeoutMs', flags: '--exit-flush-timeout <ms>', description: 'how long to wait for clients to receive the final output' },
  { setting: 'killAfterMs', flags: '--kill-after <ms>', description: 'after forwarding SIGTERM/SIGINT/SIGHUP, SIGKILL the command if it is still running this much later' },
  { setting: 'readyFd', flags: '--ready-fd <fd>', description: 'inherited file descriptor to write a one-line ready signal to once listening (for a parent process)' },
  { setting: 'terminationMessagePath', flags: '--termination-message-path <file>', description: 'file that receives one line saying how the session ended (for the controller)' },
  { setting: 'logLevel', flags: '--log-level <level>', description: 'log level', choices: logLevel.unwrap().options },
  ...CODE_FLAGS,
];

/** Switches: a flag turns them on (or off, for --no-exit); otherwise the environment variable decides. */
const SWITCHES: SwitchFlag[] = [
  { setting: 'writable', flags: '-W, --writable', description: 'accept input from clients (default: read-only, like ttyd)', sets: 'true' },
  { setting: 'exitOnJob', flags: '--no-exit', description: 'keep serving the final screen after the command ends', sets: 'false' },
  { setting: 'checkOrigin', flags: '-O, --check-origin', description: 'refuse WebSocket upgrades whose Origin is not the Host', sets: 'true' },
  { setting: 'exitWithStdin', flags: '--exit-with-stdin', description: 'stop as on SIGHUP when standard input closes (a parent that dies takes the supervisor with it)', sets: 'true' },
  ...CODE_SWITCHES,
];

const program = () =>
  buildProgram({
    name: 'cliscale-supervisor',
    description:
      "Run one command in a pseudo-terminal and share it with any number of browser or ttyd clients over ttyd's " +
      'WebSocket protocol. Clients that (re)connect get the whole terminal replayed.',
    usage: '[options] -- <command...>',
    argument: { name: '[command...]', description: `command and arguments (or env ${E.command}, run with /bin/sh -c)` },
    values: VALUE_FLAGS,
    switches: SWITCHES,
    extra: [new Option('-t, --client-option <key=value>', 'preference sent to clients (ttyd -t); repeatable').argParser(clientOption)],
    variables: SUPERVISOR_VARIABLES.shape,
    epilog:
      `\nExamples:\n  cliscale-supervisor -W -- bash\n  ${E.command}="npm test" ${E.port}=7681 ${E.host}=0.0.0.0 cliscale-supervisor\n\n` +
      "The supervisor exits with the command's exit code (128+N when signal N ended it).",
  });

export function helpText(): string {
  return program().helpInformation();
}

/**
 * Parses argv (without node and script) and env: flags stand for the variables they name and win over the
 * environment. --help prints and throws commander's `commander.helpDisplayed`; anything wrong throws
 * ConfigError with a message meant for a person, naming the flag or variable.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): SupervisorConfig {
  const cli = program();
  const flags = flagsAsEnv(cli, argv, valueFlagVariables(VALUE_FLAGS));
  const given: Record<string, string | undefined> = { ...env, ...flags, ...switchesAsEnv(cli, SWITCHES) };
  const v = parseEnv(SUPERVISOR_VARIABLES, given);

  let command: SupervisorConfig['command'];
  const commandLine = v[E.command];
  if (cli.args.length > 0) {
    command = { argv: cli.args, display: cli.args.join(' ') };
  } else if (commandLine && commandLine.trim() !== '') {
    // A command line from the environment is a shell program by nature; it is passed to sh as one argument,
    // never spliced into another string.
    command = { argv: ['/bin/sh', '-c', commandLine], display: commandLine };
  } else {
    throw new ConfigError(`no command given: pass it after "--" or set ${E.command}`);
  }

  // An install command set to "" (flag or variable) means "skip installing", unlike one not set at all.
  const code = toCodeConfig(v, given[E.installCmd] !== undefined);
  if (code.url && v[E.cwd]) {
    throw new ConfigError('--cwd and --code-url exclude each other: the command runs in the code directory (--code-dir)');
  }
  if (code.dir && !isEmptyOrAbsent(code.dir)) {
    throw new ConfigError(`code directory "${code.dir}" is not empty: the code is fetched into an empty directory`);
  }

  const cwd = resolve(v[E.cwd] ?? process.cwd());
  if (!isDirectory(cwd)) throw new ConfigError(`working directory "${cwd}" does not exist or is not a directory`);
  const terminationMessagePath = v[E.terminationMessagePath];
  const readyFd = v[E.readyFd];

  return {
    command,
    port: v[E.port],
    host: v[E.host],
    writable: v[E.writable],
    credential: v[E.credential],
    scrollback: v[E.scrollback],
    cwd,
    maxClients: v[E.maxClients],
    exitOnJob: v[E.exitOnJob],
    terminalType: v[E.terminalType],
    columns: v[E.terminalSize].columns,
    rows: v[E.terminalSize].rows,
    clientOptions: cli.opts<{ clientOption?: Record<string, unknown> }>().clientOption ?? {},
    checkOrigin: v[E.checkOrigin],
    exitWithStdin: v[E.exitWithStdin],
    pingIntervalMs: v[E.pingInterval] * 1000,
    maxMessageBytes: v[E.maxMessageBytes],
    clientQueueBytes: v[E.clientQueueBytes],
    parseBacklogBytes: v[E.parseBacklogBytes],
    exitFlushTimeoutMs: v[E.exitFlushTimeoutMs],
    killAfterMs: v[E.killAfterMs],
    logLevel: v[E.logLevel],
    ...(readyFd !== undefined && { readyFd }),
    ...(terminationMessagePath && { terminationMessagePath: resolve(terminationMessagePath) }),
    code,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isEmptyOrAbsent(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
