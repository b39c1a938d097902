import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { TERMINATION_MESSAGE_MAX_BYTES, truncateUtf8, type FailingPhase } from '@cliscale/runner-contract';
import { failureText } from './prepare/terminal-lines.js';
import type { JobExit } from './pty-job.js';

/**
 * How a session ended, in one line, for whoever started it: the exit code alone cannot tell "the download
 * got a 404" (3) from a command that exits 3 itself. Kubernetes copies what the container wrote to its
 * terminationMessagePath into the pod's status (at most 4096 bytes); the local backend reads the same file.
 * The controller turns it into the session's failure reason. The limit and the cut are the runner contract's.
 */

export interface SessionOutcome {
  exit: JobExit;
  failure?: { phase: FailingPhase; message: string };
  commandStarted: boolean;
}

export function describeOutcome({ exit, failure, commandStarted }: SessionOutcome): string {
  if (failure) return failureText(failure.phase, failure.message);
  if (!commandStarted) return `cancelled by ${exit.signal ?? 'a signal'} before the command started`;
  if (exit.signal) return `the command was killed by ${exit.signal}`;
  return `the command exited with code ${exit.code}`;
}

/** Best effort: a message that cannot be written must not change the exit code. */
export function writeTerminationMessage(path: string, outcome: SessionOutcome, log: Logger): void {
  try {
    writeFileSync(path, truncateUtf8(describeOutcome(outcome), TERMINATION_MESSAGE_MAX_BYTES));
  } catch (err) {
    log.warn({ err: (err as Error).message, path }, 'could not write the termination message');
  }
}
