import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import type { z } from 'zod';
import { apiRoutes } from './api-routes.js';
import { ApiError } from './api-schemas.js';
import type { ErrorStatus, Route } from './route-definition.js';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
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

/** `/api/sessions/:id` → `/api/sessions/{id}` */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function operation(route: Route): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, r] of Object.entries(route.responses)) responses[status as keyof ZodOpenApiResponsesObject] = { description: r.description, ...(r.schema && json(r.schema)) };
  for (const status of route.errors ?? []) responses[`${status}`] = { description: ERROR_DESCRIPTIONS[status], ...json(ApiError) };
  const params = { ...(route.params && { path: route.params }), ...(route.query && { query: route.query }) };
  return {
    summary: route.summary,
    ...(route.description && { description: route.description }),
    ...(route.auth && { security: [{ apiKey: [] }] }),
    ...(Object.keys(params).length > 0 && { requestParams: params }),
    ...(route.body && { requestBody: { required: route.body.required, ...json(route.body.schema) } }),
    responses,
  };
}

/** The OpenAPI 3.1 document of a route table (by default the controller's), from the schemas its routes use. */
export function openApiDocument(routes: readonly Route[] = apiRoutes): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'cliscale API',
      version: '1.0.0',
      description: 'Start short-lived CLI jobs and get a browser terminal for each.',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from the API_KEYS setting.' } } },
    paths,
  });
}
