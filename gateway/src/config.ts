import { Command } from 'commander';
import { z } from 'zod';
import { bool, ConfigError, flagsAsEnv, int, list, logLevel, parseEnv, postgresUrl, trustProxy } from '@cliscale/service-kit';

export { ConfigError };

/** The gateway's configuration: environment variables, a few overridable by flags. README.md lists them. */

const origin = z.url({ protocol: /^https?$/ }).transform((v) => new URL(v).origin);

const ENV = z.object({
  PORT: int(0, 65535).default(8081),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: postgresUrl.optional(),
  DB_MAX_CONNECTIONS: int(1, 200).default(10),
  JWKS_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080/.well-known/jwks.json'),
  TOKEN_ISSUER: z.string().min(1).default('cliscale'),
  TOKEN_AUDIENCE: z.string().min(1).default('cliscale-gateway'),
  PUBLIC_ORIGINS: list.pipe(z.array(origin)).optional(),
  TRUST_PROXY: trustProxy.default(false),
  COOKIE_SECURE: bool.optional(),
  RUNNER_WAIT_SECONDS: int(1, 3600).default(120),
  RUNNER_POLL_SECONDS: int(1, 300).default(2),
  MAX_CONNECTION_SECONDS: int(10, 7 * 24 * 3600).default(24 * 3600),
  IDLE_TIMEOUT_SECONDS: int(10, 7 * 24 * 3600).default(3600),
  MAX_CONNECTIONS_PER_SESSION: int(1, 10_000).default(20),
  // The runners' MAX_CLIENTS (the supervisor's default, which the controller leaves as it is).
  RUNNER_MAX_CLIENTS: int(1, 10_000).default(100),
  MAX_CONNECTIONS_PER_IP: int(1, 100_000).default(50),
  MAX_MESSAGE_BYTES: int(1024, 64 << 20).default(1 << 20),
  PING_INTERVAL_SECONDS: int(1, 3600).default(20),
  LOG_LEVEL: logLevel,
});

export interface GatewayConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dbMaxConnections: number;
  jwksUrl: string;
  token: { issuer: string; audience: string };
  /** Origins a browser may open terminals from; undefined: the request's own host only. */
  publicOrigins?: string[];
  trustProxy: boolean | number | string[];
  /** undefined: Secure cookies exactly when the request came over https. */
  cookieSecure?: boolean;
  runnerWaitSeconds: number;
  /** Fallback re-read of a starting session; the controller's notifications normally wake it first. */
  runnerPollSeconds: number;
  maxConnectionSeconds: number;
  idleTimeoutSeconds: number;
  maxConnectionsPerSession: number;
  maxConnectionsPerIp: number;
  maxMessageBytes: number;
  pingIntervalSeconds: number;
  logLevel: string;
}

function program(): Command {
  return new Command('cliscale-gateway')
    .description('Checks one-time terminal tokens, serves the browser terminal and proxies it to the session runner.')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 8081)')
    .option('-i, --host <address>', 'address to bind (env HOST, default 127.0.0.1; 0.0.0.0 in a pod)')
    .option('--jwks-url <url>', "the controller's JWKS (env JWKS_URL)")
    .addHelpText('after', '\nEvery setting is an environment variable; see gateway/README.md.');
}

export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = parseEnv(ENV, { ...env, ...flagsAsEnv(program(), argv, { port: 'PORT', host: 'HOST', jwksUrl: 'JWKS_URL' }) });
  // One gateway must never let more viewers at a session than its runner accepts: they would be turned away
  // by the runner (1013, "too many viewers") after passing the gateway's own check.
  if (e.MAX_CONNECTIONS_PER_SESSION > e.RUNNER_MAX_CLIENTS) {
    throw new ConfigError(
      `MAX_CONNECTIONS_PER_SESSION (${e.MAX_CONNECTIONS_PER_SESSION}) must not exceed RUNNER_MAX_CLIENTS (${e.RUNNER_MAX_CLIENTS}), the runners' client cap`,
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dbMaxConnections: e.DB_MAX_CONNECTIONS,
    jwksUrl: e.JWKS_URL,
    token: { issuer: e.TOKEN_ISSUER, audience: e.TOKEN_AUDIENCE },
    publicOrigins: e.PUBLIC_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    cookieSecure: e.COOKIE_SECURE,
    runnerWaitSeconds: e.RUNNER_WAIT_SECONDS,
    runnerPollSeconds: e.RUNNER_POLL_SECONDS,
    maxConnectionSeconds: e.MAX_CONNECTION_SECONDS,
    idleTimeoutSeconds: e.IDLE_TIMEOUT_SECONDS,
    maxConnectionsPerSession: e.MAX_CONNECTIONS_PER_SESSION,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
    pingIntervalSeconds: e.PING_INTERVAL_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}
