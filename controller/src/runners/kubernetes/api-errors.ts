import { STATUS_CODES } from 'node:http';
import { ApiException } from '@kubernetes/client-node';

/**
 * How client-node 2.x reports failures: typed calls throw ApiException with `code` (the HTTP status) and `body`
 * (the response text, a JSON `Status` from a real apiserver; undefined for 401); watches end with an Error
 * carrying `statusCode`; a connection failure is undici's `TypeError: fetch failed` with the socket error as
 * `cause`.
 */

/** The HTTP status of a failed API call, or undefined when there was no response at all. */
export function apiStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** Nothing answered, or the apiserver said it cannot serve right now: worth retrying. */
export function isApiUnavailable(err: unknown): boolean {
  const code = apiStatusCode(err);
  return code === undefined || code >= 500 || code === 429;
}

/** The apiserver's own words (Status.message), else a short description without client-node's header dump. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const status = JSON.parse(body) as { message?: unknown };
        if (typeof status.message === 'string' && status.message) return status.message;
      } catch {
        if (body.trim()) return body.trim().slice(0, 500);
      }
    }
    return STATUS_CODES[err.code] ?? 'no message';
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const code = (cause as { code?: string } | undefined)?.code;
    const causeText = cause instanceof Error ? `: ${cause.message}${code ? ` (${code})` : ''}` : '';
    return `${err.message}${causeText}`;
  }
  return String(err);
}

/** For log lines: status and message, never client-node's full exception text (it includes every header). */
export function describeApiError(err: unknown): { status?: number; message: string } {
  const status = apiStatusCode(err);
  return { ...(status !== undefined ? { status } : {}), message: apiErrorMessage(err) };
}
