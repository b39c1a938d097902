import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Knex } from 'knex';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { openDatabase, pendingMigrations, recordAudit, SessionChanges } from '@cliscale/database';
import { CloseCode } from '@cliscale/protocol';
import { listen, loadStaticPage } from '@cliscale/service-kit';
import type { GatewayConfig } from './config.js';
import { ConnectionLimits } from './connection-limits.js';
import { handleHttp, type RouteDeps } from './http-routes.js';
import { createMetrics } from './metrics.js';
import type { Refusal } from './refusals.js';
import { compileTrust, requestFacts } from './request-facts.js';
import { TerminalBridge } from './terminal-bridge.js';
import { TokenVerifier } from './token-verifier.js';
import { handleUpgrade } from './upgrade-handler.js';

/** How the gateway's LISTEN connection shows in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = 'cliscale-gateway-listen';

export interface GatewayOverrides {
  logger?: Logger;
  /** A database pool owned by the caller (local mode shares the controller's); closed by the caller. */
  db?: Knex;
  /** Folder of the built web terminal (default: dist/page next to the bundle, else web-terminal/dist). */
  pageDir?: URL;
  /** false: do not listen; the caller passes requests and upgrades to `handleRequest`/`handleUpgrade`. */
  listen?: boolean;
}

export interface Gateway {
  url: string;
  server: Server;
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stops accepting, tells every terminal to reconnect elsewhere (close 1012), closes the database. */
  close(): Promise<void>;
}

function defaultPageDir(): URL {
  const bundled = new URL('./page/', import.meta.url);
  return import.meta.url.endsWith('/dist/main.js') ? bundled : new URL('../../web-terminal/dist/', import.meta.url);
}

export async function startGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const logger = overrides.logger ?? pino({ level: config.logLevel, base: { component: 'gateway' } });
  if (!overrides.db && !config.databaseUrl) throw new Error('DATABASE_URL is required (the database the controller uses)');
  const db = overrides.db ?? openDatabase({ url: config.databaseUrl!, maxConnections: config.dbMaxConnections });
  const pending = await pendingMigrations(db);
  if (pending.length > 0) throw new Error(`the database schema is behind (pending: ${pending.join(', ')}): run \`npm run migrate\``);

  const metrics = createMetrics();
  const trust = compileTrust(config.trustProxy);
  const bridges = new Set<TerminalBridge>();
  const writes = new Set<Promise<unknown>>();
  const track = (write: Promise<unknown>) => {
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };
  let closing = false;
  const deps: RouteDeps = {
    db,
    verifier: new TokenVerifier(config.jwksUrl, config.token),
    page: loadStaticPage(overrides.pageDir ?? defaultPageDir()),
    metrics,
    logger,
    cookieSecure: config.cookieSecure,
    facts: (req: IncomingMessage) => requestFacts(req, trust),
    refused: (refusal: Refusal, sessionId: string | undefined, req: IncomingMessage) => {
      metrics.refusals.inc({ reason: refusal.reason });
      const facts = requestFacts(req, trust);
      logger.info({ sessionId, reason: refusal.reason, status: refusal.status, ip: facts.ip }, 'terminal refused');
      track(recordAudit(db, {
        event: 'token.refused',
        sessionId: sessionId ?? null,
        clientIp: facts.ip,
        userAgent: req.headers['user-agent'],
        detail: { reason: refusal.reason, status: refusal.status },
      }).catch(() => {}));
    },
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('tty') ? 'tty' : false),
  });
  const limits = new ConnectionLimits({ perSession: config.maxConnectionsPerSession, perIp: config.maxConnectionsPerIp });
  const changes = SessionChanges.forDatabase(db, {
    log: logger,
    applicationName: LISTEN_APPLICATION_NAME,
    onListening: (up) => metrics.changesListening.set(up ? 1 : 0),
  });
  await changes.start();
  const settings = {
    runnerWaitMs: config.runnerWaitSeconds * 1000,
    runnerPollMs: config.runnerPollSeconds * 1000,
    maxMessageBytes: config.maxMessageBytes,
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    maxConnectionMs: config.maxConnectionSeconds * 1000,
    pingIntervalMs: config.pingIntervalSeconds * 1000,
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handleHttp(req, res, deps).catch((err) => {
      logger.error({ err }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
    });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // handleUpgrade refuses what it cannot use itself; this only keeps an unforeseen bug from ending the process.
    const failed = (err: unknown) => {
      logger.error({ err }, 'upgrade handler failed');
      socket.destroy();
    };
    handleUpgrade(req, socket, head, {
      ...deps,
      wss,
      limits,
      publicOrigins: config.publicOrigins,
      isClosing: () => closing,
      onTerminal: (ws, access, peer, release) => {
        const bridge = new TerminalBridge(ws, access, peer, { db, changes, track, logger, metrics, settings });
        bridges.add(bridge);
        ws.once('close', () => {
          bridges.delete(bridge);
          release();
        });
        bridge.run().catch((err) => {
          logger.error({ err, sessionId: access.sessionId }, 'terminal bridge failed');
          bridge.close(CloseCode.INTERNAL_ERROR, 'gateway error');
        });
      },
    }).catch(failed);
  };
  const server = createServer(onRequest);
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.on('upgrade', onUpgrade);
  let url = '';
  if (overrides.listen !== false) {
    const bound = await listen(server, config.host, config.port).catch(async (err: unknown) => {
      await changes.close();
      if (!overrides.db) await db.destroy();
      throw err;
    });
    url = bound.url;
    logger.info({ host: config.host, port: bound.port, jwks: config.jwksUrl }, 'gateway listening');
  }

  let done: Promise<void> | undefined;
  return {
    url,
    server,
    handleRequest: onRequest,
    handleUpgrade: onUpgrade,
    close: () =>
      (done ??= (async () => {
        closing = true;
        const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
        // 1012: the page reconnects, to another replica behind the load balancer.
        for (const bridge of bridges) bridge.close(CloseCode.SERVICE_RESTART, 'gateway restarting');
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 3000)))]);
        clearTimeout(timer);
        server.closeAllConnections();
        // Upgraded sockets are not the HTTP server's any more: drop those whose peer never answered the close.
        for (const bridge of bridges) bridge.terminate();
        // Their 'close' events record the disconnections: let those writes finish before the pool goes.
        await new Promise((r) => setImmediate(r));
        await Promise.allSettled([...writes]);
        await changes.close();
        if (!overrides.db) await db.destroy();
      })()),
  };
}
