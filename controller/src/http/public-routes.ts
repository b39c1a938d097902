import { Router } from 'express';
import type { Knex } from 'knex';
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
    let timer: NodeJS.Timeout | undefined;
    try {
      // A probe must get its answer within its own timeout, even when the database hangs.
      await Promise.race([
        o.db.raw('SELECT 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('database check timed out')), 2000))),
      ]);
      res.json(Health.parse({ status: 'ok', database: 'ok' }));
    } catch {
      res.status(503).json(Health.parse({ status: 'unavailable', database: 'unavailable' }));
    } finally {
      clearTimeout(timer);
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.set('content-type', o.registry.contentType).send(await o.registry.metrics());
  });
  return router;
}
