import { createDocument, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { z } from 'zod';
import {
  ApiError,
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

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const errors = (...codes: number[]): ZodOpenApiResponsesObject => {
  const described: Record<number, string> = {
    400: 'Invalid request (the message says which field and why)',
    401: 'Missing or invalid API key',
    403: 'The session belongs to another API key',
    404: 'No such session',
    409: 'The session has already ended',
    413: 'Request body too large',
    415: 'Content-Type is not application/json',
    429: 'Rate limit or active-session limit reached (see Retry-After)',
    503: 'Database or runner backend unavailable (see Retry-After)',
  };
  return Object.fromEntries(codes.map((c) => [String(c), { description: described[c]!, ...json(ApiError) }]));
};
const authed = [{ apiKey: [] }];

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and shape responses. */
export function openApiDocument(): ReturnType<typeof createDocument> {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'cliscale API',
      version: '1.0.0',
      description: 'Start short-lived CLI jobs and get a browser terminal for each.',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from the API_KEYS setting.' } } },
    paths: {
      '/api/sessions': {
        post: {
          summary: 'Start a session',
          description: 'Answers 201 at once (status pending or starting); with wait=ready, once the runner is reachable or has ended.',
          security: authed,
          requestParams: { query: CreateSessionQuery },
          requestBody: { required: true, ...json(CreateSessionRequest) },
          responses: { '201': { description: 'Session created', ...json(CreateSessionResponse) }, ...errors(400, 401, 413, 415, 429, 503) },
        },
        get: {
          summary: "List the caller's sessions, newest first",
          security: authed,
          requestParams: { query: ListSessionsQuery },
          responses: { '200': { description: 'One page', ...json(SessionList) }, ...errors(400, 401, 429) },
        },
      },
      '/api/sessions/{id}': {
        get: {
          summary: 'A session and its status',
          security: authed,
          requestParams: { path: SessionIdParams },
          responses: { '200': { description: 'The session', ...json(Session) }, ...errors(400, 401, 403, 404, 429) },
        },
        delete: {
          summary: 'Cancel a session (stops its runner)',
          security: authed,
          requestParams: { path: SessionIdParams },
          responses: { '200': { description: 'The cancelled session', ...json(Session) }, ...errors(400, 401, 403, 404, 409, 429) },
        },
      },
      '/api/sessions/{id}/tokens': {
        post: {
          summary: 'A fresh one-time terminal token for a live session',
          security: authed,
          requestParams: { path: SessionIdParams },
          requestBody: { required: false, ...json(TokenRequest) },
          responses: { '201': { description: 'Token issued', ...json(TokenResponse) }, ...errors(400, 401, 403, 404, 409, 415, 429) },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/.well-known/jwks.json': {
        get: { summary: 'Public keys that verify terminal tokens', responses: { '200': { description: 'JWKS', ...json(Jwks) } } },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Alive', ...json(Health) } } } },
      '/readyz': {
        get: {
          summary: 'Readiness (the database answers)',
          responses: { '200': { description: 'Ready', ...json(Health) }, '503': { description: 'Not ready', ...json(Health) } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format' } } } },
    },
  });
}
