import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { pino, type Logger } from 'pino';
import { openDatabase, pendingMigrations, prune, SessionChanges } from '@cliscale/database';
import { listen } from '@cliscale/service-kit';
import { apiKey } from './auth/api-keys.js';
import { localApiKey } from './auth/local-api-key.js';
import type { ControllerConfig } from './config.js';
import { createApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import { RateLimits } from './http/rate-limits.js';
import { createKubernetesBackend } from './runners/create-kubernetes-backend.js';
import { createLocalRunner } from './runners/local/local-runner.js';
import type { RunnerBackend, RunnerEvent } from './runners/runner-backend.js';
import { resolveWithDns, type ResolveHost } from './sessions/code-url-policy.js';
import { reconcile } from './sessions/reconciler.js';
import { SessionService } from './sessions/session-service.js';
import type { SessionChangeFeed } from './sessions/settled-wait.js';
import { loadSigningKeys } from './tokens/signing-keys.js';
import { TokenIssuer } from './tokens/token-issuer.js';

export interface ControllerOverrides {
  /** A runner backend built by the caller (tests: the Kubernetes backend against a fake API server). */
  backend?: RunnerBackend;
  resolveHost?: ResolveHost;
  logger?: Logger;
  /** false: do not listen; the caller serves `app` itself (local mode puts it behind one port with the gateway). */
  listen?: boolean;
  /** Tests: what `?wait=ready` waits on instead of the controller's own LISTEN connection (started and closed with the controller). */
  sessionChanges?: (db: Knex) => ChangeListener;
}

/** The LISTEN connection's lifecycle and what waiters use of it (SessionChanges from @cliscale/database). */
export type ChangeListener = SessionChangeFeed & Pick<SessionChanges, 'start' | 'close'>;

export interface Controller {
  /** http://host:port the API listens on ('' with `listen: false`). */
  url: string;
  server: Server;
  /** The API as a request handler. */
  app: (req: IncomingMessage, res: ServerResponse) => void;
  db: Knex;
  sessions: SessionService;
  backend: RunnerBackend;
  /** Set in local mode when no API_KEYS were configured: the generated key, for the start-up banner. */
  localApiKey?: string;
  /** One reconciliation pass now (also runs at start-up and every RECONCILE_INTERVAL_SECONDS). */
  reconcile(): ReturnType<typeof reconcile>;
  /** Stops accepting, stops the runner backend (local runners are stopped), closes the database. */
  close(): Promise<void>;
}

const knexLog = (logger: Logger) => (level: 'warn' | 'error' | 'debug', message: string) => logger[level]({ database: message });

async function openConfiguredDatabase(config: ControllerConfig, logger: Logger): Promise<Knex> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required (npm start runs an embedded PostgreSQL and sets it)');
  const db = openDatabase({ url: config.databaseUrl, maxConnections: config.dbMaxConnections, log: knexLog(logger) });
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    await db.destroy();
    throw new Error(`the database schema is behind (pending: ${pending.join(', ')}): run \`npm run migrate\` first`);
  }
  return db;
}

function requireSupervisorBin(config: ControllerConfig): string {
  const bin = config.runner.supervisorBin;
  if (!bin) throw new Error('SUPERVISOR_BIN is required with RUNNER_BACKEND=local: the path of cliscale-supervisor (npm start sets it)');
  return bin;
}

/** Starts the controller: database, keys, runner backend, reconciler, pruner and the HTTP API. */
export async function startController(config: ControllerConfig, overrides: ControllerOverrides = {}): Promise<Controller> {
  const logger = overrides.logger ?? pino({ level: config.logLevel, base: { component: 'controller' } });
  const local = config.runner.backend === 'local';
  const supervisorBin = local && !overrides.backend ? requireSupervisorBin(config) : '';
  const apiKeys = [...config.apiKeys];
  let generatedKey: string | undefined;
  if (apiKeys.length === 0) {
    if (!local) throw new Error('API_KEYS is required: name:key pairs, e.g. API_KEYS=ci:<32 random characters>');
    generatedKey = await localApiKey(config.dataDir);
    apiKeys.push(apiKey('local', generatedKey));
  }
  const keys = await loadSigningKeys({ ...config.jwt, generateInDir: local ? config.dataDir : undefined });

  const db = await openConfiguredDatabase(config, logger);
  const backend =
    overrides.backend ??
    (local
      ? createLocalRunner({ dataDir: config.dataDir, supervisorBin, logger })
      : createKubernetesBackend(config.runner.kubernetes, logger));
  const metrics = createMetrics(db);
  // One LISTEN connection per controller: ?wait=ready wakes on the NOTIFY of every status transition.
  const changes =
    overrides.sessionChanges?.(db) ?? SessionChanges.forDatabase(db, { log: logger, applicationName: 'cliscale-controller-listen' });
  await changes.start();
  const sessions = new SessionService({
    db,
    backend,
    tokens: new TokenIssuer(keys, config.token),
    codeUrlPolicy: { ...config.codeUrl, allowLocal: config.codeUrl.allowLocal && local },
    resolveHost: overrides.resolveHost ?? resolveWithDns,
    maxSeconds: config.session.maxSeconds,
    maxActivePerKey: config.session.maxActivePerKey,
    defaultCommand: config.session.defaultCommand,
    metrics,
    logger,
    changes,
  });

  // Events of one session are applied in order; sessions do not wait for each other.
  const chains = new Map<string, Promise<void>>();
  const onEvent = (event: RunnerEvent) => {
    const next = (chains.get(event.sessionId) ?? Promise.resolve())
      .then(() => sessions.applyRunnerEvent(event))
      .catch((err) => logger.error({ err, sessionId: event.sessionId }, 'could not record a runner event'));
    chains.set(event.sessionId, next);
    void next.then(() => chains.get(event.sessionId) === next && chains.delete(event.sessionId));
  };
  const reconcileNow = () => reconcile({ db, backend, sessions, logger });
  const background = (name: string, fn: () => Promise<unknown>) => () =>
    void fn().catch((err) => logger.warn({ err }, `${name} failed; retrying on the next interval`));
  // The Kubernetes backend's start retries until the API answers: the API serves meanwhile (reads work,
  // creations get 503 from launch), and the first reconciliation follows as soon as observation begins.
  void backend.start(onEvent).then(
    () => background('reconcile', reconcileNow)(),
    (err) => logger.error({ err }, 'the runner backend could not start observing runners'),
  );
  const timers = [
    setInterval(background('reconcile', reconcileNow), config.reconcileIntervalSeconds * 1000),
    setInterval(background('prune', () => prune(db, config.retention)), config.pruneIntervalSeconds * 1000),
  ];
  for (const t of timers) t.unref();

  const app = createApp({
    db,
    sessions,
    keys,
    apiKeys,
    limits: new RateLimits(db, config.rateLimit),
    metrics,
    logger,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    bodyLimitBytes: config.bodyLimitBytes,
    waitReadyMaxSeconds: config.waitReadyMaxSeconds,
  });
  const server = createServer(app);
  // Bounded everywhere: slow clients cannot hold sockets; ?wait=ready fits inside the request timeout.
  server.headersTimeout = 15_000;
  server.requestTimeout = (config.waitReadyMaxSeconds + 30) * 1000;
  server.keepAliveTimeout = 65_000;
  let url = '';
  if (overrides.listen !== false) {
    const bound = await listen(server, config.host, config.port);
    url = bound.url;
    logger.info({ host: config.host, port: bound.port, backend: backend.kind, keys: keys.all.map((k) => k.kid) }, 'controller listening');
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    app,
    db,
    sessions,
    backend,
    localApiKey: generatedKey,
    reconcile: reconcileNow,
    close: () =>
      (closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        sessions.endWaits();
        const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
        server.closeIdleConnections();
        await backend.close();
        // In-flight requests get a few seconds to finish, then their connections are cut.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        server.closeAllConnections();
        await Promise.allSettled(chains.values());
        await changes.close();
        await db.destroy();
      })()),
  };
}
