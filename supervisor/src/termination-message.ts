import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { FailingPhase } from './prepare/phase-error.js';
import { failureText } from './prepare/terminal-lines.js';
import type { JobExit } from './pty-job.js';

/**
 * How a session ended, in one line, for whoever started it: the exit code alone cannot tell "the download
 * got a 404" (3) from a command that exits 3 itself. Kubernetes copies what the container wrote to its
 * terminationMessagePath into the pod's status (at most 4096 bytes); the local backend reads the same file.
 * The controller turns it into the session's failure reason.
 */
export const TERMINATION_MESSAGE_MAX_BYTES = 1024;

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

/** Cuts at a character boundary so the file stays valid UTF-8. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const ellipsis = '…';
  let end = maxBytes - Buffer.byteLength(ellipsis);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + ellipsis;
}

/** Best effort: a message that cannot be written must not change the exit code. */
export function writeTerminationMessage(path: string, outcome: SessionOutcome, log: Logger): void {
  try {
    writeFileSync(path, truncateUtf8(describeOutcome(outcome), TERMINATION_MESSAGE_MAX_BYTES));
  } catch (err) {
    log.warn({ err: (err as Error).message, path }, 'could not write the termination message');
  }
}
