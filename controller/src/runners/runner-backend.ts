/**
 * The one interface every runner backend implements (a Kubernetes Job per session in production, a local
 * child process in local mode). The session service writes the session row first, then calls `launch`;
 * everything the runner does afterwards arrives as RunnerEvents, which the service applies to the row.
 */

/** Where a session's supervisor serves ttyd's protocol (`ws://host:port/ws`). */
export interface RunnerEndpoint {
  host: string;
  port: number;
}

/** What a backend needs to start one session's supervisor. */
export interface RunnerSpec {
  sessionId: string;
  /**
   * The supervisor's environment contract (CODE_URL, COMMAND, INSTALL_CMD, PROMPT, CODE_CHECKSUM_SHA256,
   * CREDENTIAL, plus the caller's extra variables). Values are data: a backend puts them into the
   * runner's environment as they are and never splices them into a command line.
   */
  env: Record<string, string>;
  /** The runner is stopped this many seconds after it was created (state `expired`). */
  deadlineSeconds: number;
}

/**
 * The runner's state as the backend sees it. `running` means the supervisor is reachable (Pod Ready /
 * child answering /healthz), not merely scheduled.
 */
export type RunnerState = 'starting' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

export const FINISHED_RUNNER_STATES: ReadonlySet<RunnerState> = new Set(['succeeded', 'failed', 'expired', 'cancelled']);

export interface RunnerEvent {
  sessionId: string;
  state: RunnerState;
  /** Job or process name, for people and for `kubectl`. */
  runnerName?: string;
  /** Set with `running` (and kept afterwards when known). */
  endpoint?: RunnerEndpoint;
  /** The command's exit code (the supervisor exits with it), when the runner ended by itself. */
  exitCode?: number;
  /**
   * Why the runner ended or failed, for people: "deadline exceeded", "image pull failed: ...",
   * "out of memory (OOMKilled)", "runner pod deleted", ... Absent for a plain exit.
   */
  reason?: string;
}

/** One runner the backend knows about right now, for reconciliation against the sessions table. */
export interface RunnerSnapshot extends RunnerEvent {
  /** When the runner was created (Job creationTimestamp / process start). */
  createdAt: Date;
}

export type RunnerEventListener = (event: RunnerEvent) => void;

export interface RunnerBackend {
  readonly kind: 'kubernetes' | 'local';
  /**
   * Begins observing runners (the Kubernetes backend opens its Pod watch) and delivers every state change,
   * for runners this process launched and for ones launched by other replicas or earlier processes. Events
   * may repeat; the consumer treats them idempotently. Resolves once observation is established.
   */
  start(listener: RunnerEventListener): Promise<void>;
  /**
   * Creates the runner and resolves as soon as it exists (Job created / child spawned), never waiting for
   * it to become ready. Launching a session that already has a runner resolves without creating a second.
   * Rejects with RunnerUnavailableError when the backend cannot be reached (the API answers 503).
   */
  launch(spec: RunnerSpec): Promise<{ runnerName: string }>;
  /** Stops the session's runner (Job deleted with background propagation / child signalled). Idempotent. */
  cancel(sessionId: string): Promise<void>;
  /** Every runner that currently exists, finished ones included while they are still around. */
  list(): Promise<RunnerSnapshot[]>;
  /** Stops observing; the local backend also stops its children. */
  close(): Promise<void>;
}

/** The backend (Kubernetes API, process spawn) cannot take work right now; the request may be retried. */
export class RunnerUnavailableError extends Error {
  override name = 'RunnerUnavailableError';
}
