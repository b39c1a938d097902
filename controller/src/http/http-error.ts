import type { ZodError } from 'zod';

/**
 * An error of the HTTP layer itself (authentication, content type, body size, rate limits): its status and
 * message become the JSON response `{error, ...extra}`. Session logic throws session-errors.ts instead.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** Response headers such as Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The request's params, query or body do not match the route's schema: the caller's mistake (400). */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  constructor(readonly zod: ZodError) {
    super(zod.message);
  }
}

/** A response the server built does not match the route's documented schema: the server's bug (500). */
export class ResponseValidationError extends Error {
  override name = 'ResponseValidationError';
  constructor(
    readonly route: string,
    readonly status: number,
    readonly zod: ZodError,
  ) {
    super(`the ${status} response of ${route} does not match its schema: ${zod.message}`);
  }
}
