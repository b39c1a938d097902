import type { Request } from 'express';
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Caller, SessionService } from '../sessions/session-service.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import type { RateLimits } from './rate-limits.js';

/**
 * One row of the route table (api-routes.ts): everything express needs to serve a route and everything
 * OpenAPI needs to document it. router.ts builds the express router from the rows, openapi.ts the document.
 */

export type Method = 'get' | 'post' | 'delete';

/** The error statuses a route documents (openapi.ts describes each). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/** A response of one status: with a schema, the body is JSON checked against it before it is sent. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}
export type Responses = Readonly<Record<number, ResponseSpec>>;

/** What handlers may use: the controller's services and settings. */
export interface RouteDeps {
  db: Knex;
  sessions: SessionService;
  limits: RateLimits;
  keys: SigningKeys;
  registry: Registry;
  publicUrl?: string;
  waitReadyMaxSeconds: number;
  /** The OpenAPI document generated from the route table. */
  openApi: unknown;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B, A extends boolean> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
  /** The authenticated API key (routes with `auth: true`). */
  caller: A extends true ? Caller : undefined;
  req: Request;
}

type Headers = Record<string, string>;

/** What a handler answers: one of the route's declared statuses, with a body of that status's schema. */
export type Reply<R extends Responses> = {
  [S in keyof R & number]: R[S] extends { schema: infer Z extends z.ZodType }
    ? { status: S; body: z.input<Z>; headers?: Headers }
    : { status: S; body: unknown; headers?: Headers } | { status: S; text: string; contentType: string; headers?: Headers };
}[keyof R & number];

/** A route's declaration: what OpenAPI documents and what is checked before and after its handler. */
export interface RouteSpec<P, Q, B, R extends Responses, A extends boolean> {
  method: Method;
  /** express syntax (`/api/sessions/:id`); OpenAPI gets `{id}`. */
  path: string;
  summary: string;
  description?: string;
  /** Needs `Authorization: Bearer <API key>`. */
  auth: A;
  params?: P;
  query?: Q;
  /** A JSON body; `required: false` reads a missing body as `{}`. */
  body?: { schema: B; required: boolean };
  responses: R;
  errors?: readonly ErrorStatus[];
}

export type Handler<P, Q, B, R extends Responses, A extends boolean> = (input: RouteInput<P, Q, B, A>, deps: RouteDeps) => Reply<R> | Promise<Reply<R>>;

/** A row of the table, with the types that only matter inside the row erased. */
export interface Route {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  auth: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean };
  responses: Responses;
  errors?: readonly ErrorStatus[];
  handle(input: { params: unknown; query: unknown; body: unknown; caller: Caller | undefined; req: Request }, deps: RouteDeps): unknown;
}

/**
 * Declares a route: `route({...}).handle(async (input, deps) => reply)`. In two steps so that the handler's
 * input and reply types follow from the schemas declared in the first.
 */
export function route<
  R extends Responses,
  A extends boolean,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B, R, A>): { handle(handler: Handler<P, Q, B, R, A>): Route } {
  return { handle: (handler) => ({ ...spec, handle: handler }) as unknown as Route };
}
