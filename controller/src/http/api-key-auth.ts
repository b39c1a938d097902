import type { RequestHandler } from 'express';
import { bearerToken } from '@cliscale/service-kit';
import { matchApiKey, type ApiKey } from '../auth/api-keys.js';
import type { Caller } from '../sessions/session-service.js';
import { HttpError } from './http-error.js';
import type { RateLimits } from './rate-limits.js';

/**
 * `Authorization: Bearer <API key>`. An address that fails too often is refused (429) before its key is
 * even compared; the key itself is never logged or echoed.
 */
export function requireApiKey(keys: readonly ApiKey[], limits: RateLimits): RequestHandler {
  return async (req, res, next) => {
    const ip = req.ip ?? 'unknown';
    await limits.refuseIfAuthBlocked(ip);
    const presented = bearerToken(req.get('authorization'));
    const keyName = presented === undefined ? undefined : matchApiKey(keys, presented);
    if (!keyName) {
      await limits.recordAuthFailure(ip);
      const message = presented === undefined ? 'missing "Authorization: Bearer <API key>" header' : 'invalid API key';
      throw new HttpError(401, message, {}, { 'www-authenticate': 'Bearer realm="cliscale"' });
    }
    const caller: Caller = { keyName, clientIp: ip, userAgent: req.get('user-agent') };
    res.locals.caller = caller;
    next();
  };
}

export function callerOf(res: { locals: Record<string, unknown> }): Caller {
  return res.locals.caller as Caller;
}
