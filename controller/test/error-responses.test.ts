import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { errorResponse } from '../src/http/error-handler.js';
import { HttpError, RequestValidationError, ResponseValidationError } from '../src/http/http-error.js';
import {
  DependencyUnavailable,
  InvalidRequest,
  LaunchFailed,
  NotYourSession,
  SessionFinished,
  SessionNotFound,
  TooManyActiveSessions,
} from '../src/sessions/session-errors.js';
import { startTestController, type TestController } from './helpers/controller-harness.js';

const ID = '6f1c2b8e-8d4a-4c55-9f1e-3b2a1c0d9e8f';
const respond = (err: unknown) => errorResponse(err, { requestId: 'req-1', bodyLimitBytes: 4096 });
const zodError = () => z.object({ n: z.number() }).safeParse({ n: 'x' }).error!;

describe('how errors look over HTTP (error-handler.ts, the one place that decides)', () => {
  it.each([
    [new InvalidRequest('code_url must use https, not ftp', 'code_url'), 400, { error: 'code_url must use https, not ftp', field: 'code_url' }, {}],
    [new InvalidRequest('cursor is not one this API returned'), 400, { error: 'cursor is not one this API returned' }, {}],
    [new NotYourSession(ID), 403, { error: 'this session belongs to another API key' }, {}],
    [new SessionNotFound(ID), 404, { error: `no session ${ID}` }, {}],
    [new SessionFinished('cancelled'), 409, { error: 'session already cancelled', status: 'cancelled' }, {}],
    [
      new SessionFinished('succeeded', 'there is no terminal to connect to'),
      409,
      { error: 'session already succeeded: there is no terminal to connect to', status: 'succeeded' },
      {},
    ],
    [new TooManyActiveSessions(3, 3), 429, { error: 'too many active sessions for this API key (3 of 3); wait for one to end or cancel one' }, {}],
    [new DependencyUnavailable('could not resolve code_url host x (ETIMEOUT); try again'), 503, { error: 'could not resolve code_url host x (ETIMEOUT); try again' }, {}],
    [new DependencyUnavailable('busy', 7), 503, { error: 'busy' }, { 'retry-after': '7' }],
    [new LaunchFailed(ID, 'runner backend unavailable: down', 10), 503, { error: 'runner backend unavailable: down', sessionId: ID }, { 'retry-after': '10' }],
    [new LaunchFailed(ID, 'the runner could not be created: bad spec'), 500, { error: 'the runner could not be created: bad spec', sessionId: ID }, {}],
    [new HttpError(401, 'invalid API key', {}, { 'www-authenticate': 'Bearer realm="cliscale"' }), 401, { error: 'invalid API key' }, { 'www-authenticate': 'Bearer realm="cliscale"' }],
  ])('%s', (err, status, body, headers) => {
    expect(respond(err)).toEqual({ status, body, headers });
  });

  it('a request that fails its schema is the caller’s mistake: 400 naming the field', () => {
    expect(respond(new RequestValidationError(zodError()))).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/^n: /), issues: [{ path: 'n', message: expect.any(String) }] },
      headers: {},
    });
  });

  it('a response that fails its schema, or any stray ZodError, is the server’s bug: 500, logged, no details', () => {
    for (const err of [new ResponseValidationError('GET /x', 200, zodError()), zodError(), new Error('boom')]) {
      const answer = respond(err);
      expect(answer).toMatchObject({ status: 500, body: { error: 'internal error', requestId: 'req-1' }, log: { level: 'error' } });
      expect(JSON.stringify(answer.body)).not.toMatch(/expected number/i);
    }
  });

  it('database outages are 503 with Retry-After', () => {
    expect(respond(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({
      status: 503,
      headers: { 'retry-after': '5' },
      log: { level: 'warn' },
    });
  });
});

describe('responses that do not match their schema', () => {
  let t: TestDatabase;
  let c: TestController;
  beforeAll(async () => {
    t = await createTestDatabase();
    c = await startTestController({ databaseUrl: t.url });
  });
  afterAll(async () => {
    await c?.close();
    await t?.drop();
  });

  it('answer 500 with the request id (and log it), never 400: the request was fine', async () => {
    // A row this API cannot describe (a runner backend the Session schema does not know, as a newer replica might write).
    const id = await t.insertSession({ owner: 'alice', runner_backend: 'docker' });
    for (const path of [`/api/sessions/${id}`, '/api/sessions']) {
      const res = await c.api(path, { headers: { 'x-request-id': `bad-row-${path.length}` } });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: 'internal error', requestId: `bad-row-${path.length}` });
      expect(res.headers.get('cache-control')).toBeNull();
      const logged = c.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === `bad-row-${path.length}`);
      expect(logged).toEqual([expect.objectContaining({ level: 50, msg: 'response does not match its schema' })]);
    }
  });
});
