import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ApiKey } from '../auth/api-keys.js';
import type { SessionService } from '../sessions/session-service.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { errorHandler, notFound } from './error-handler.js';
import type { ControllerMetrics } from './metrics.js';
import { apiRoutes } from './api-routes.js';
import { openApiDocument } from './openapi.js';
import type { RateLimits } from './rate-limits.js';
import { requestLog } from './request-log.js';
import { buildRouter } from './router.js';

export interface AppOptions {
  db: Knex;
  sessions: SessionService;
  keys: SigningKeys;
  apiKeys: readonly ApiKey[];
  limits: RateLimits;
  metrics: ControllerMetrics;
  logger: Logger;
  trustProxy: boolean | number | string[];
  publicUrl?: string;
  bodyLimitBytes: number;
  waitReadyMaxSeconds: number;
}

/** The controller's HTTP API: the routes of api-routes.ts, plus logging, metrics and errors around them. */
export function createApp(o: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', o.trustProxy);
  app.set('query parser', 'simple');
  app.use(requestLog(o.logger));
  app.use((req, res, next) => {
    const end = o.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      // The route pattern, not the path: one series per route, not per session id.
      const route = req.route as { path?: unknown } | undefined;
      end({ route: typeof route?.path === 'string' ? route.path : 'unmatched', status: String(res.statusCode) });
    });
    next();
  });
  const deps = {
    db: o.db,
    sessions: o.sessions,
    limits: o.limits,
    keys: o.keys,
    registry: o.metrics.registry,
    publicUrl: o.publicUrl,
    waitReadyMaxSeconds: o.waitReadyMaxSeconds,
    openApi: openApiDocument(apiRoutes),
  };
  app.use(buildRouter(apiRoutes, deps, { apiKeys: o.apiKeys, limits: o.limits, bodyLimitBytes: o.bodyLimitBytes }));
  app.use(notFound);
  app.use(errorHandler(o.logger, o.bodyLimitBytes));
  return app;
}
