import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ApiKey } from '../auth/api-keys.js';
import type { SessionService } from '../sessions/session-service.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { errorHandler, notFound } from './error-handler.js';
import type { ControllerMetrics } from './metrics.js';
import { publicRoutes } from './public-routes.js';
import type { RateLimits } from './rate-limits.js';
import { requestLog } from './request-log.js';
import { sessionRoutes } from './session-routes.js';

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

/** The controller's HTTP API (see openapi.ts for the routes). */
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
      const base = (res.locals.routeBase as string | undefined) ?? '';
      const route = req.route ? `${base}${req.route.path === '/' && base ? '' : (req.route.path as string)}` : 'unmatched';
      end({ route, status: String(res.statusCode) });
    });
    next();
  });
  app.use(publicRoutes({ db: o.db, keys: o.keys, registry: o.metrics.registry }));
  app.use(
    '/api/sessions',
    sessionRoutes({
      sessions: o.sessions,
      apiKeys: o.apiKeys,
      limits: o.limits,
      publicUrl: o.publicUrl,
      bodyLimitBytes: o.bodyLimitBytes,
      waitReadyMaxSeconds: o.waitReadyMaxSeconds,
    }),
  );
  app.use(notFound);
  app.use(errorHandler(o.logger, o.bodyLimitBytes));
  return app;
}
