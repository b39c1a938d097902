import type { Request } from 'express';
import type { z } from 'zod';
import { databaseAnswers, type SessionRow } from '@cliscale/database';
import { HEALTHY, readiness } from '@cliscale/service-kit';
import { InvalidRequest } from '../sessions/session-errors.js';
import { jwks } from '../tokens/signing-keys.js';
import type { IssuedToken } from '../tokens/token-issuer.js';
import {
  CreateSessionQuery,
  CreateSessionRequest,
  CreateSessionResponse,
  Health,
  Jwks,
  ListSessionsQuery,
  Session,
  SessionIdParams,
  SessionList,
  TokenRequest,
  TokenResponse,
} from './api-schemas.js';
import { publicBase, terminalUrl, webSocketUrl } from './public-urls.js';
import { route, type Route } from './route-definition.js';
import { decodeCursor, encodeCursor, sessionView } from './session-view.js';

/**
 * The API: every route, its documentation and its handler. The express router (router.ts) and
 * /api/openapi.json (openapi.ts) are both built from this table, so they cannot disagree.
 */

const noStore = { 'cache-control': 'no-store' };

function access(req: Request, publicUrl: string | undefined, row: SessionRow, token: IssuedToken) {
  const base = publicBase(req, publicUrl);
  return {
    token: token.token,
    terminalUrl: terminalUrl(base, row.id, token.token),
    wsUrl: webSocketUrl(base, row.id),
    tokenExpiresAt: token.expiresAt.toISOString(),
  };
}

const sessionRoutes: Route[] = [
  route({
    method: 'post',
    path: '/api/sessions',
    summary: 'Start a session',
    description: 'Answers 201 at once (status pending or starting); with wait=ready, once the runner is reachable or has ended.',
    auth: true,
    query: CreateSessionQuery,
    body: { schema: CreateSessionRequest, required: true },
    responses: { 201: { description: 'Session created', schema: CreateSessionResponse } },
    errors: [400, 401, 413, 415, 429, 503],
  }).handle(async ({ query, body, caller, req }, o) => {
      const request = await o.sessions.check(body);
      // Counted once the request is valid: a typo does not cost a creation.
      await o.limits.consumeSessionCreation(caller.clientIp ?? 'unknown');
      const created = await o.sessions.create(caller, request);
      let row = created.row;
      if (query.wait === 'ready') {
        const seconds = Math.min(query.wait_timeout ?? o.waitReadyMaxSeconds, o.waitReadyMaxSeconds);
        row = await o.sessions.waitUntilSettled(row.id, seconds * 1000);
      }
      return {
        status: 201,
        headers: { ...noStore, location: `/api/sessions/${row.id}` },
        body: { sessionId: row.id, status: row.status, ...access(req, o.publicUrl, row, created.token), session: sessionView(row) },
      };
  }),
  route({
    method: 'get',
    path: '/api/sessions',
    summary: "List the caller's sessions, newest first",
    auth: true,
    query: ListSessionsQuery,
    responses: { 200: { description: 'One page', schema: SessionList } },
    errors: [400, 401, 429],
  }).handle(async ({ query, caller }, o) => {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && !after) throw new InvalidRequest('cursor is not one this API returned');
      const page = await o.sessions.list(caller, { limit: query.limit, after, status: query.status });
      return {
        status: 200,
        headers: noStore,
        body: { sessions: page.rows.map(sessionView), nextCursor: page.next ? encodeCursor(page.next) : null },
      };
  }),
  route({
    method: 'get',
    path: '/api/sessions/:id',
    summary: 'A session and its status',
    auth: true,
    params: SessionIdParams,
    responses: { 200: { description: 'The session', schema: Session } },
    errors: [400, 401, 403, 404, 429],
  }).handle(async ({ params, caller }, o) => {
      return { status: 200, headers: noStore, body: sessionView(await o.sessions.get(params.id, caller)) };
  }),
  route({
    method: 'delete',
    path: '/api/sessions/:id',
    summary: 'Cancel a session (stops its runner)',
    auth: true,
    params: SessionIdParams,
    responses: { 200: { description: 'The cancelled session', schema: Session } },
    errors: [400, 401, 403, 404, 409, 429],
  }).handle(async ({ params, caller }, o) => {
      return { status: 200, headers: noStore, body: sessionView(await o.sessions.cancel(params.id, caller)) };
  }),
  route({
    method: 'post',
    path: '/api/sessions/:id/tokens',
    summary: 'A fresh one-time terminal token for a live session',
    auth: true,
    params: SessionIdParams,
    body: { schema: TokenRequest, required: false },
    responses: { 201: { description: 'Token issued', schema: TokenResponse } },
    errors: [400, 401, 403, 404, 409, 415, 429],
  }).handle(async ({ params, body, caller, req }, o) => {
      const { row, token } = await o.sessions.issueToken(params.id, caller, body.mode);
      return { status: 201, headers: noStore, body: { sessionId: row.id, mode: body.mode, ...access(req, o.publicUrl, row, token) } };
  }),
];

/** Routes without an API key: the OpenAPI document, the JWKS, health, readiness and metrics. */
const publicRoutes: Route[] = [
  route({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    auth: false,
    responses: { 200: { description: 'OpenAPI 3.1' } },
  }).handle((_input, o) => ({ status: 200, body: o.openApi })),
  route({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys that verify terminal tokens',
    auth: false,
    responses: { 200: { description: 'JWKS', schema: Jwks } },
  // Gateways cache it; a new key is picked up when they meet its kid.
  }).handle((_input, o) => ({ status: 200, headers: { 'cache-control': 'public, max-age=300' }, body: jwks(o.keys) as z.input<typeof Jwks> })),
  route({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    auth: false,
    responses: { 200: { description: 'Alive', schema: Health } },
  }).handle(() => ({ status: 200, body: HEALTHY })),
  route({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness (the database answers)',
    auth: false,
    responses: { 200: { description: 'Ready', schema: Health }, 503: { description: 'Not ready', schema: Health } },
  }).handle(async (_input, o) => readiness(await databaseAnswers(o.db))),
  route({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    auth: false,
    responses: { 200: { description: 'Text exposition format' } },
  }).handle(async (_input, o) => ({ status: 200, contentType: o.registry.contentType, text: await o.registry.metrics() })),
];

/** Every route the controller serves, in the order the OpenAPI document lists them. */
export const apiRoutes: readonly Route[] = [...sessionRoutes, ...publicRoutes];
