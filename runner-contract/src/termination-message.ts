import { withoutControlCharacters } from '@cliscale/service-kit';

/**
 * How a session ended, in one line ("fetch failed: HTTP 404 from ...", "the command exited with code 3"):
 * the supervisor writes it to its termination message file; Kubernetes copies it into the pod's status, the
 * local backend reads the file; the controller records it as the session's failure reason.
 */

/** Kubernetes' default terminationMessagePath: where a runner pod's supervisor writes it. */
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** What the supervisor writes at most. */
export const TERMINATION_MESSAGE_MAX_BYTES = 1024;

/** What Kubernetes keeps of a termination message; a reader never needs more. */
export const TERMINATION_MESSAGE_READ_BYTES = 4096;

const MAX_REASON_CHARS = 1024;

/** Cuts at a character boundary so the text stays valid UTF-8. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const ellipsis = '…';
  let end = maxBytes - Buffer.byteLength(ellipsis);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + ellipsis;
}

/** The reason to record from what a runner left, or undefined when it left nothing usable. Control characters never reach the API. */
export function terminationReason(message: string | undefined | null): string | undefined {
  const text = withoutControlCharacters(message ?? '');
  if (!text) return undefined;
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
}
