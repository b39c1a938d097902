import { Command } from 'commander';
import { z } from 'zod';
import { defaultKubernetesRunnerConfig, type KubernetesRunnerConfig } from './runners/kubernetes/kubernetes-config.js';
import { parseApiKeys, type ApiKey } from './auth/api-keys.js';
import { bool, ConfigError, flagsAsEnv, int, list, logLevel, parseEnv, postgresUrl, trustProxy } from '@cliscale/service-kit';

/**
 * The controller's configuration: environment variables, overridden by the few command-line flags below.
 * Every value is validated here, once; the rest of the code receives typed values. README.md lists them.
 */

const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((v, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  }).pipe(schema);

const publicUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://cliscale.example.com' })
  .transform((v) => v.replace(/\/+$/, ''));

const ENV = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: publicUrl.optional(),
  TRUST_PROXY: trustProxy.default(false),
  API_KEYS: z.string().optional(),
  DATABASE_URL: postgresUrl.optional(),
  CLISCALE_DATA_DIR: z.string().min(1).default('.cliscale'),
  DB_MAX_CONNECTIONS: int(1, 200).default(10),
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_KEYS_DIR: z.string().optional(),
  TOKEN_TTL_SECONDS: int(30, 3600).default(300),
  TOKEN_ISSUER: z.string().min(1).default('cliscale'),
  TOKEN_AUDIENCE: z.string().min(1).default('cliscale-gateway'),
  SESSION_MAX_SECONDS: int(1, 7 * 24 * 3600).default(3600),
  MAX_ACTIVE_SESSIONS_PER_KEY: int(1, 100_000).default(50),
  DEFAULT_COMMAND: z.string().min(1).default('npm start'),
  ALLOWED_CODE_HOSTS: list.default(['github.com', 'gitlab.com', 'bitbucket.org']),
  ALLOW_HTTP_CODE_URLS: bool.default(false),
  ALLOW_PRIVATE_CODE_HOSTS: bool.default(false),
  ALLOW_LOCAL_CODE: bool.default(false),
  SESSION_RATE_LIMIT: int(1, 1_000_000).default(5),
  SESSION_RATE_WINDOW_SECONDS: int(1, 86_400).default(60),
  AUTH_FAILURE_LIMIT: int(1, 1_000_000).default(10),
  AUTH_FAILURE_WINDOW_SECONDS: int(1, 86_400).default(300),
  BODY_LIMIT_BYTES: int(1024, 10 << 20).default(64 << 10),
  WAIT_READY_MAX_SECONDS: int(1, 600).default(120),
  RECONCILE_INTERVAL_SECONDS: int(1, 3600).default(30),
  PRUNE_INTERVAL_SECONDS: int(1, 86_400).default(300),
  SESSION_RETENTION_DAYS: int(1, 3650).default(30),
  AUDIT_RETENTION_DAYS: int(1, 3650).default(90),
  RUNNER_BACKEND: z.enum(['local', 'kubernetes']).default('local'),
  SUPERVISOR_BIN: z.string().optional(),
  KUBE_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name').max(63).optional(),
  RUNNER_IMAGE: z.string().min(1).optional(),
  RUNNER_IMAGE_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  RUNNER_SERVICE_ACCOUNT: z.string().min(1).optional(),
  RUNNER_INSTANCE: z.string().min(1).max(63).optional(),
  RUNNER_TTL_SECONDS: int(0, 7 * 24 * 3600).optional(),
  RUNNER_RESOURCES: json(z.object({ requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string()) })).optional(),
  RUNNER_WORKSPACE_SIZE: z.string().min(1).optional(),
  RUNNER_RUNTIME_CLASS: z.string().min(1).optional(),
  RUNNER_NODE_SELECTOR: json(z.record(z.string(), z.string())).optional(),
  LOG_LEVEL: logLevel,
});

export interface ControllerConfig {
  port: number;
  host: string;
  /** Base of every URL handed to users; without it, URLs are built from the request's host. */
  publicUrl?: string;
  trustProxy: boolean | number | string[];
  apiKeys: ApiKey[];
  databaseUrl?: string;
  dataDir: string;
  dbMaxConnections: number;
  jwt: { privateKeyPem?: string; keysDir?: string };
  token: { ttlSeconds: number; issuer: string; audience: string };
  session: { maxSeconds: number; maxActivePerKey: number; defaultCommand: string };
  codeUrl: { allowedHosts: string[]; allowHttp: boolean; allowPrivateHosts: boolean; allowLocal: boolean };
  rateLimit: { sessions: number; sessionWindowSeconds: number; authFailures: number; authFailureWindowSeconds: number };
  bodyLimitBytes: number;
  waitReadyMaxSeconds: number;
  reconcileIntervalSeconds: number;
  pruneIntervalSeconds: number;
  retention: { sessionDays: number; auditDays: number };
  runner: { backend: 'local' | 'kubernetes'; supervisorBin?: string; kubernetes: KubernetesRunnerConfig };
  logLevel: string;
}

export { ConfigError };

function program(): Command {
  return new Command('cliscale-controller')
    .description('The cliscale REST API: sessions, one-time terminal tokens and runner backends.')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 8080)')
    .option('-i, --host <address>', 'address to bind (env HOST, default 127.0.0.1; 0.0.0.0 in a pod)')
    .option('--public-url <url>', 'base URL users reach (env PUBLIC_URL)')
    .option('--data-dir <dir>', 'local state: embedded PostgreSQL, signing key (env CLISCALE_DATA_DIR, default .cliscale)')
    .option('--runner <backend>', 'local or kubernetes (env RUNNER_BACKEND, default local)')
    .addHelpText('after', '\nEvery setting is an environment variable; see controller/README.md.');
}

/** Flags win over the environment. Throws ConfigError naming each invalid variable. */
export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const e = parseEnv(ENV, {
    ...env,
    ...flagsAsEnv(program(), argv, { port: 'PORT', host: 'HOST', publicUrl: 'PUBLIC_URL', dataDir: 'CLISCALE_DATA_DIR', runner: 'RUNNER_BACKEND' }),
  });
  let apiKeys: ApiKey[];
  try {
    apiKeys = e.API_KEYS ? parseApiKeys(e.API_KEYS) : [];
  } catch (err) {
    throw new ConfigError(`API_KEYS: ${(err as Error).message}`);
  }
  const k = defaultKubernetesRunnerConfig;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL,
    trustProxy: e.TRUST_PROXY,
    apiKeys,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.CLISCALE_DATA_DIR,
    dbMaxConnections: e.DB_MAX_CONNECTIONS,
    jwt: { privateKeyPem: e.JWT_PRIVATE_KEY, keysDir: e.JWT_KEYS_DIR },
    token: { ttlSeconds: e.TOKEN_TTL_SECONDS, issuer: e.TOKEN_ISSUER, audience: e.TOKEN_AUDIENCE },
    session: { maxSeconds: e.SESSION_MAX_SECONDS, maxActivePerKey: e.MAX_ACTIVE_SESSIONS_PER_KEY, defaultCommand: e.DEFAULT_COMMAND },
    codeUrl: {
      allowedHosts: e.ALLOWED_CODE_HOSTS.map((h) => h.toLowerCase()),
      allowHttp: e.ALLOW_HTTP_CODE_URLS,
      allowPrivateHosts: e.ALLOW_PRIVATE_CODE_HOSTS,
      allowLocal: e.ALLOW_LOCAL_CODE,
    },
    rateLimit: {
      sessions: e.SESSION_RATE_LIMIT,
      sessionWindowSeconds: e.SESSION_RATE_WINDOW_SECONDS,
      authFailures: e.AUTH_FAILURE_LIMIT,
      authFailureWindowSeconds: e.AUTH_FAILURE_WINDOW_SECONDS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    waitReadyMaxSeconds: e.WAIT_READY_MAX_SECONDS,
    reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    pruneIntervalSeconds: e.PRUNE_INTERVAL_SECONDS,
    retention: { sessionDays: e.SESSION_RETENTION_DAYS, auditDays: e.AUDIT_RETENTION_DAYS },
    runner: {
      backend: e.RUNNER_BACKEND,
      supervisorBin: e.SUPERVISOR_BIN,
      kubernetes: {
        ...k,
        namespace: e.KUBE_NAMESPACE ?? k.namespace,
        image: e.RUNNER_IMAGE ?? k.image,
        imagePullPolicy: e.RUNNER_IMAGE_PULL_POLICY ?? k.imagePullPolicy,
        serviceAccountName: e.RUNNER_SERVICE_ACCOUNT ?? k.serviceAccountName,
        instance: e.RUNNER_INSTANCE ?? k.instance,
        ttlSecondsAfterFinished: e.RUNNER_TTL_SECONDS ?? k.ttlSecondsAfterFinished,
        resources: e.RUNNER_RESOURCES ?? k.resources,
        workspaceSizeLimit: e.RUNNER_WORKSPACE_SIZE ?? k.workspaceSizeLimit,
        ...(e.RUNNER_RUNTIME_CLASS && { runtimeClassName: e.RUNNER_RUNTIME_CLASS }),
        ...(e.RUNNER_NODE_SELECTOR && { nodeSelector: e.RUNNER_NODE_SELECTOR }),
      },
    },
    logLevel: e.LOG_LEVEL,
  };
}
