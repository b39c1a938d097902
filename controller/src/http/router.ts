import { Router, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import type { ApiKey } from '../auth/api-keys.js';
import { callerOf, requireApiKey } from './api-key-auth.js';
import { RequestValidationError, ResponseValidationError } from './http-error.js';
import { jsonBody } from './json-body.js';
import type { RateLimits } from './rate-limits.js';
import type { Route, RouteDeps } from './route-definition.js';

/** Request input checked against the route's schema; a mismatch is the caller's mistake (400). */
function parseRequest(schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestValidationError(parsed.error);
  return parsed.data;
}

type AnyReply = { status: number; headers?: Record<string, string> } & ({ body: unknown } | { text: string; contentType: string });

/** Sends a handler's reply; a JSON body is checked against the status's schema first (a mismatch is a 500). */
function send(res: Response, route: Route, reply: AnyReply): void {
  if ('text' in reply) {
    res.status(reply.status).set(reply.headers ?? {}).set('content-type', reply.contentType).send(reply.text);
    return;
  }
  const schema = route.responses[reply.status]?.schema;
  let body = reply.body;
  if (schema) {
    const checked = schema.safeParse(body);
    if (!checked.success) throw new ResponseValidationError(`${route.method.toUpperCase()} ${route.path}`, reply.status, checked.error);
    body = checked.data;
  }
  res.status(reply.status).set(reply.headers ?? {}).json(body);
}

/**
 * The express router of a route table: per route, API key authentication, JSON body parsing, validation of
 * params, query and body, the handler, and the check of what it answers. Errors go to error-handler.ts.
 */
export function buildRouter(
  routes: readonly Route[],
  deps: RouteDeps,
  o: { apiKeys: readonly ApiKey[]; limits: RateLimits; bodyLimitBytes: number },
): Router {
  const router = Router();
  const authenticate = requireApiKey(o.apiKeys, o.limits);
  for (const route of routes) {
    const before: RequestHandler[] = [];
    if (route.auth) before.push(authenticate);
    if (route.body) before.push(jsonBody(o.bodyLimitBytes, { required: route.body.required }));
    router[route.method](route.path, ...before, async (req, res) => {
      const input = {
        params: parseRequest(route.params, req.params),
        query: parseRequest(route.query, req.query),
        body: parseRequest(route.body?.schema, req.body),
        caller: route.auth ? callerOf(res) : undefined,
        req,
      };
      const reply = (await route.handle(input, deps)) as AnyReply;
      send(res, route, reply);
    });
  }
  return router;
}
