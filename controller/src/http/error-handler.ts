import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ZodError } from 'zod';
import {
  DependencyUnavailable,
  InvalidRequest,
  LaunchFailed,
  NotYourSession,
  SessionFinished,
  SessionNotFound,
  TooManyActiveSessions,
} from '../sessions/session-errors.js';
import { HttpError, RequestValidationError, ResponseValidationError } from './http-error.js';

/** pg/knex failures that mean "the database is not reachable right now", not "this request is wrong". */
function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return (
    e.name === 'KnexTimeoutError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '53300', '08006', '08001'].includes(e.code ?? '')
  );
}

function zodMessage(err: ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

const retryAfter = (seconds: number | undefined): Record<string, string> => (seconds === undefined ? {} : { 'retry-after': String(seconds) });

/** What the caller gets for an error, and how loudly it is logged (unexpected ones with their stack). */
export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  log?: { level: 'warn' | 'error'; message: string };
}

/**
 * The one place that decides what every error looks like over HTTP: session errors, request validation,
 * the body parser's errors, database outages. Anything else, a response that fails its own schema
 * included, is a 500 whose message is not shown to the caller (it may name internals).
 */
export function errorResponse(err: unknown, context: { requestId: unknown; bodyLimitBytes: number }): ErrorResponse {
  const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): ErrorResponse => ({ status, body, headers });
  const type = (err as { type?: string }).type;
  if (err instanceof HttpError) return answer(err.status, { error: err.message, ...err.extra }, err.headers);
  if (err instanceof RequestValidationError) {
    const { issues } = err.zod;
    return answer(400, { error: zodMessage(err.zod), issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  if (err instanceof InvalidRequest) return answer(400, { error: err.message, ...(err.field !== undefined && { field: err.field }) });
  if (err instanceof NotYourSession) return answer(403, { error: err.message });
  if (err instanceof SessionNotFound) return answer(404, { error: err.message });
  if (err instanceof SessionFinished) return answer(409, { error: err.message, status: err.status });
  if (err instanceof TooManyActiveSessions) return answer(429, { error: err.message });
  if (err instanceof DependencyUnavailable) return answer(503, { error: err.message }, retryAfter(err.retryAfterSeconds));
  if (err instanceof LaunchFailed) return answer(err.retryable ? 503 : 500, { error: err.message, sessionId: err.sessionId }, retryAfter(err.retryAfterSeconds));
  if (type === 'entity.parse.failed') return answer(400, { error: `malformed JSON body: ${(err as Error).message}` });
  if (type === 'entity.too.large') return answer(413, { error: `request body larger than ${context.bodyLimitBytes} bytes` });
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return answer(415, { error: (err as Error).message });
  if (isDatabaseUnavailable(err)) {
    return { ...answer(503, { error: 'database unavailable; try again shortly' }, { 'retry-after': '5' }), log: { level: 'warn', message: 'database unavailable' } };
  }
  const message = err instanceof ResponseValidationError ? 'response does not match its schema' : 'request failed';
  return { ...answer(500, { error: 'internal error', requestId: context.requestId }), log: { level: 'error', message } };
}

/** Unknown routes: JSON like every other answer. */
export const notFound: RequestHandler = (req) => {
  throw new HttpError(404, `no route ${req.method} ${req.path}`);
};

/** Every error becomes `{error, ...}` with the status that says what happened (see errorResponse). */
export function errorHandler(logger: Logger, bodyLimitBytes: number): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body, headers, log } = errorResponse(err, { requestId: req.id, bodyLimitBytes });
    if (log) logger[log.level]({ err, requestId: req.id }, log.message);
    if (res.headersSent) return res.destroy();
    res.status(status).set(headers).json(body);
  };
}
