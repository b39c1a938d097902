/**
 * The supervisor writes one line saying how its session ended ("fetch failed: HTTP 404 from ...", "the
 * command exited with code 3") to its termination message file; Kubernetes copies it into the pod's status,
 * the local backend reads the file. Both come here before the text becomes a session's failure reason.
 */

/** Where a runner pod's supervisor writes it: Kubernetes' default terminationMessagePath. */
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';

const MAX_REASON_CHARS = 1024;

/** The reason to record, or undefined when the runner left nothing usable. Control characters never reach the API. */
export function terminationReason(message: string | undefined | null): string | undefined {
  const text = (message ?? '').replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
  if (!text) return undefined;
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
}
