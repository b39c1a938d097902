import { PREPARATION_EXIT_CODES, type FailingPhase } from '@cliscale/runner-contract';

export type { FailingPhase };

/**
 * The steps a session goes through before and while its command runs. Each failing step has its own exit
 * code (the runner contract's PREPARATION_EXIT_CODES), so a Job's exit code alone tells "could not fetch"
 * from "install failed" from the command's failure.
 */
export type Phase = FailingPhase | 'running' | 'exited' | 'failed';

/** A preparation step failed. `message` is one line meant for the person watching the terminal. */
export class PhaseError extends Error {
  constructor(
    readonly phase: FailingPhase,
    message: string,
  ) {
    super(message);
  }

  get exitCode(): number {
    return PREPARATION_EXIT_CODES[this.phase];
  }
}

/** Thrown when the supervisor is told to stop (a signal) while it is still preparing. */
export class PreparationCancelled extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`cancelled by ${signal}`);
  }
}
