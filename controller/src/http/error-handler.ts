import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { HttpError } from './http-error.js';

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

/** Unknown routes: JSON like every other answer. */
export const notFound: RequestHandler = (req) => {
  throw new HttpError(404, `no route ${req.method} ${req.path}`);
};

/**
 * Every error becomes `{error, ...}` with the status that says what happened. Only unexpected errors are
 * logged with their stack; their message is not shown to the caller (it may name internals).
 */
export function errorHandler(logger: Logger, bodyLimitBytes: number): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let body: Record<string, unknown> = { error: 'internal error', requestId: req.id };
    let headers: Record<string, string> = {};
    const type = (err as { type?: string }).type;
    if (err instanceof HttpError) {
      status = err.status;
      body = { error: err.message, ...err.extra };
      headers = err.headers;
    } else if (err instanceof ZodError) {
      status = 400;
      body = { error: zodMessage(err), issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
    } else if (type === 'entity.parse.failed') {
      status = 400;
      body = { error: `malformed JSON body: ${(err as Error).message}` };
    } else if (type === 'entity.too.large') {
      status = 413;
      body = { error: `request body larger than ${bodyLimitBytes} bytes` };
    } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      status = 415;
      body = { error: (err as Error).message };
    } else if (isDatabaseUnavailable(err)) {
      status = 503;
      body = { error: 'database unavailable; try again shortly' };
      headers = { 'retry-after': '5' };
      logger.warn({ err, requestId: req.id }, 'database unavailable');
    } else {
      logger.error({ err, requestId: req.id }, 'request failed');
    }
    if (res.headersSent) return res.destroy();
    res.status(status).set(headers).json(body);
  };
}
