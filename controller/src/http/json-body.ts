import express, { type RequestHandler } from 'express';
import { HttpError } from './http-error.js';

/**
 * JSON request bodies: 415 for another content type, 413 above `limitBytes` (from the parser), 400 for
 * malformed JSON (from the error handler). Requests without a body get `{}` unless one is required.
 */
export function jsonBody(limitBytes: number, options: { required: boolean }): RequestHandler {
  const parse = express.json({ limit: limitBytes, strict: true, type: () => true });
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const hasBody = length !== undefined ? Number(length) > 0 : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      if (options.required) throw new HttpError(400, 'the request needs a JSON body');
      req.body = {};
      return next();
    }
    if (!req.is('application/json')) {
      throw new HttpError(415, `Content-Type must be application/json, not ${req.get('content-type') ?? 'missing'}`);
    }
    parse(req, res, next);
  };
}
