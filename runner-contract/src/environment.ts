/**
 * The runner's configuration as environment variables: what the controller sets (in a Job's pod spec or a
 * local child process) and what the supervisor reads. One table, so the two sides cannot spell a name
 * differently, and the API can refuse every one of them in a caller's `env`.
 */
export const SUPERVISOR_ENV = {
  command: 'COMMAND',
  port: 'PORT',
  host: 'HOST',
  credential: 'CREDENTIAL',
  scrollback: 'SCROLLBACK',
  cwd: 'CWD',
  maxClients: 'MAX_CLIENTS',
  terminalType: 'TERM_TYPE',
  terminalSize: 'TERMINAL_SIZE',
  pingInterval: 'PING_INTERVAL',
  maxMessageBytes: 'MAX_MESSAGE_BYTES',
  clientQueueBytes: 'CLIENT_QUEUE_BYTES',
  parseBacklogBytes: 'PARSE_BACKLOG_BYTES',
  exitFlushTimeoutMs: 'EXIT_FLUSH_TIMEOUT_MS',
  killAfterMs: 'KILL_AFTER_MS',
  terminationMessagePath: 'TERMINATION_MESSAGE_PATH',
  readyFd: 'READY_FD',
  logLevel: 'LOG_LEVEL',
  writable: 'WRITABLE',
  exitOnJob: 'EXIT_ON_JOB',
  checkOrigin: 'CHECK_ORIGIN',
  exitWithStdin: 'EXIT_WITH_STDIN',
  codeUrl: 'CODE_URL',
  codeDir: 'CODE_DIR',
  installCmd: 'INSTALL_CMD',
  checksumSha256: 'CODE_CHECKSUM_SHA256',
  commit: 'CODE_COMMIT',
  allowedCodeHosts: 'ALLOWED_CODE_HOSTS',
  githubUrl: 'GITHUB_URL',
  maxDownloadBytes: 'MAX_DOWNLOAD_BYTES',
  maxExtractedBytes: 'MAX_EXTRACTED_BYTES',
  maxFiles: 'MAX_FILES',
  maxRedirects: 'MAX_REDIRECTS',
  connectTimeoutMs: 'CONNECT_TIMEOUT_MS',
  stallTimeoutMs: 'STALL_TIMEOUT_MS',
  downloadTimeoutMs: 'DOWNLOAD_TIMEOUT_MS',
  cloneTimeoutMs: 'CLONE_TIMEOUT_MS',
  installTimeoutMs: 'INSTALL_TIMEOUT_MS',
  allowHttp: 'ALLOW_HTTP',
  allowLocalCode: 'ALLOW_LOCAL_CODE',
} as const;

export type SupervisorSetting = keyof typeof SUPERVISOR_ENV;

/** Every variable the supervisor reads for itself: a session's own `env` may set none of them. */
export const SUPERVISOR_ENV_NAMES: readonly string[] = Object.values(SUPERVISOR_ENV);

/** Not a supervisor setting: the command itself reads it (the session's `prompt`). */
export const PROMPT_ENV = 'PROMPT';

/** The port a runner pod's supervisor listens on (ttyd's default). */
export const RUNNER_PORT = 7681;

/** What the controller tells one session's supervisor. Values are data: nothing here is ever part of a command line. */
export interface RunnerSettings {
  codeUrl: string;
  /** A shell command line, run by the supervisor with /bin/sh -c. */
  command: string;
  /** undefined: the supervisor chooses (npm ci / npm install / nothing); '': skip installing. */
  installCmd?: string;
  prompt?: string;
  checksumSha256?: string;
  /** `user:password` the gateway presents; nothing else can attach to the terminal. */
  credential: string;
  /** Hosts code may come from, redirects included (see runnerAllowedHosts); empty: any. */
  allowedCodeHosts?: readonly string[];
  allowHttp?: boolean;
  allowLocalCode?: boolean;
  port?: number;
  host?: string;
  writable?: boolean;
  exitOnJob?: boolean;
  exitWithStdin?: boolean;
  codeDir?: string;
  terminationMessagePath?: string;
  /** A file descriptor inherited from the parent: the supervisor writes its ready signal there (see ready-signal.ts). */
  readyFd?: number;
}

/**
 * The variables for the `settings` given (the controller's session service gives the session's part, each
 * backend the part it owns), laid over `base`: the settings always win over what `base` has.
 */
export function runnerEnvironment(settings: Partial<RunnerSettings>, base: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...base };
  const set = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) env[name] = String(value);
  };
  const E = SUPERVISOR_ENV;
  set(E.codeUrl, settings.codeUrl);
  set(E.command, settings.command);
  set(E.installCmd, settings.installCmd);
  set(PROMPT_ENV, settings.prompt);
  set(E.checksumSha256, settings.checksumSha256?.toLowerCase());
  set(E.credential, settings.credential);
  if (settings.allowedCodeHosts?.length) set(E.allowedCodeHosts, settings.allowedCodeHosts.join(','));
  if (settings.allowHttp) set(E.allowHttp, true);
  if (settings.allowLocalCode) set(E.allowLocalCode, true);
  set(E.port, settings.port);
  set(E.host, settings.host);
  set(E.writable, settings.writable);
  set(E.exitOnJob, settings.exitOnJob);
  set(E.exitWithStdin, settings.exitWithStdin);
  set(E.codeDir, settings.codeDir);
  set(E.terminationMessagePath, settings.terminationMessagePath);
  set(E.readyFd, settings.readyFd);
  return env;
}
