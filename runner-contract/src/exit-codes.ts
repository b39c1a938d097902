/**
 * The supervisor exits with its command's exit code (128+N when signal N ended it). A session that failed
 * before its command ran exits with the code of the step that failed, so a Job's exit code alone tells
 * "could not fetch" from "install failed" from the command's own failure.
 */
export const PREPARATION_EXIT_CODES = {
  fetching: 3,
  installing: 4,
  verifying: 5,
  extracting: 6,
  /** The command could not be started (not found): a shell's own code for it. */
  starting: 127,
} as const;

export type FailingPhase = keyof typeof PREPARATION_EXIT_CODES;

/** 128 + the signal's number: how a shell reports a process a signal ended. */
export const signalExitCode = (signalNumber: number) => 128 + signalNumber;
