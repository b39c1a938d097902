/**
 * The steps a session goes through before and while its command runs. Each failing step has its own exit
 * code, so a Job's exit code alone tells "could not fetch" from "install failed" from the command's failure.
 */
export type Phase = 'fetching' | 'verifying' | 'extracting' | 'installing' | 'starting' | 'running' | 'exited' | 'failed';

export const PHASE_EXIT_CODES = {
  fetching: 3,
  verifying: 5,
  extracting: 6,
  installing: 4,
  starting: 127,
} as const satisfies Partial<Record<Phase, number>>;

export type FailingPhase = keyof typeof PHASE_EXIT_CODES;

/** A preparation step failed. `message` is one line meant for the person watching the terminal. */
export class PhaseError extends Error {
  constructor(
    readonly phase: FailingPhase,
    message: string,
  ) {
    super(message);
  }

  get exitCode(): number {
    return PHASE_EXIT_CODES[this.phase];
  }
}

/** Thrown when the supervisor is told to stop (a signal) while it is still preparing. */
export class PreparationCancelled extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`cancelled by ${signal}`);
  }
}
