import { Router } from 'express';
import type { Knex } from 'knex';
import { databaseAnswers } from '@cliscale/database';
import type { Registry } from 'prom-client';
import { jwks, type SigningKeys } from '../tokens/signing-keys.js';
import { Health, Jwks } from './api-schemas.js';
import { openApiDocument } from './openapi.js';

/** Routes without an API key: the JWKS, the OpenAPI document, health, readiness and metrics. */
export function publicRoutes(o: { db: Knex; keys: SigningKeys; registry: Registry }): Router {
  const router = Router();
  const document = openApiDocument();
  const keySet = Jwks.parse(jwks(o.keys));

  router.get('/.well-known/jwks.json', (_req, res) => {
    // Gateways cache it; a new key is picked up when they meet its kid.
    res.set('cache-control', 'public, max-age=300').json(keySet);
  });
  router.get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/healthz', (_req, res) => {
    res.json(Health.parse({ status: 'ok' }));
  });
  router.get('/readyz', async (_req, res) => {
    const ok = await databaseAnswers(o.db);
    res.status(ok ? 200 : 503).json(Health.parse(ok ? { status: 'ok', database: 'ok' } : { status: 'unavailable', database: 'unavailable' }));
  });
  router.get('/metrics', async (_req, res) => {
    res.set('content-type', o.registry.contentType).send(await o.registry.metrics());
  });
  return router;
}
