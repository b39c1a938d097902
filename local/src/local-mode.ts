import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { startController, type Controller, type ControllerConfig } from '@cliscale/controller';
import { migrateToLatest, openDatabase } from '@cliscale/database';
import { startGateway, type Gateway } from '@cliscale/gateway';
import { listen, refuseUpgrade, sendJson } from '@cliscale/service-kit';
import { webTerminalDist, type LocalConfig } from './config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

export interface LocalMode {
  /** http://127.0.0.1:<port>: the API, the JWKS and the terminals, like the production load balancer. */
  url: string;
  /** The API key (generated on first start into <data-dir>/api-key unless API_KEYS is set). */
  apiKey?: string;
  controller: Controller;
  gateway: Gateway;
  /** Stops the terminals, the sessions' supervisors, the HTTP server and PostgreSQL, in that order. */
  close(): Promise<void>;
}

/** The embedded PostgreSQL in the data folder, migrated; none when DATABASE_URL names another. */
async function startDatabase(config: ControllerConfig, logger?: Logger): Promise<EmbeddedPostgres | undefined> {
  if (config.databaseUrl) return undefined;
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, onLog: (line) => logger?.debug({ postgres: line }) });
  const db = openDatabase({ url: embedded.url, maxConnections: 1 });
  try {
    await migrateToLatest(db);
  } catch (err) {
    await embedded.stop();
    throw err;
  } finally {
    await db.destroy();
  }
  return embedded;
}

/** `/ws/*` goes to the gateway, everything else (`/api/*`, `/.well-known/*`, health) to the controller. */
const toGateway = (url: string | undefined) => url === '/ws' || (url ?? '').startsWith('/ws/');

/**
 * The whole product in one process on one port: the controller (embedded PostgreSQL, local runner backend)
 * and the gateway share the database pool, and one HTTP server routes by path exactly as the chart's
 * Ingress does.
 */
export async function startLocalMode(local: LocalConfig, options: { logger?: Logger; onStep?: (step: string) => void } = {}): Promise<LocalMode> {
  const config = local.controller;
  const step = options.onStep ?? (() => {});
  if (!config.databaseUrl) step(`starting PostgreSQL in ${config.dataDir} (the first start creates it)`);
  const embedded = await startDatabase(config, options.logger);
  let controller: Controller;
  try {
    controller = await startController({ ...config, databaseUrl: config.databaseUrl ?? embedded!.url }, { listen: false, logger: options.logger });
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  let gateway: Gateway | undefined;
  const server: Server = createServer((req, res) => {
    if (!toGateway(req.url)) return controller.app(req, res);
    if (!gateway) return sendJson(res, 503, { error: 'starting' }, { 'retry-after': '1' });
    gateway.handleRequest(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    if (gateway && toGateway(req.url)) return gateway.handleUpgrade(req, socket, head);
    refuseUpgrade(socket, 404, { error: 'WebSockets are at /ws/{sessionId}' });
  });
  server.headersTimeout = 15_000;
  server.requestTimeout = (config.waitReadyMaxSeconds + 30) * 1000;
  let port: number;
  let url: string;
  try {
    ({ port, url } = await listen(server, config.host, config.port));
  } catch (err) {
    await controller.close();
    await embedded?.stop();
    const hint = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ` (port ${config.port} is in use: try --port 8090)` : '';
    throw new Error(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}${hint}`, { cause: err });
  }
  const gatewayConfig = { ...local.gateway, jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` };
  gateway = await startGateway(gatewayConfig, { db: controller.db, listen: false, logger: options.logger, pageDir: webTerminalDist() });

  let closing: Promise<void> | undefined;
  return {
    url,
    apiKey: controller.localApiKey,
    controller,
    gateway,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await gateway.close();
        server.closeIdleConnections();
        await controller.close();
        server.closeAllConnections();
        await closed;
        await embedded?.stop();
      })()),
  };
}
