import { capturedLogger } from '@cliscale/test-kit/logs';
import { loadConfig, startGateway, type Gateway } from '../../src/index.js';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  wsBase: string;
  logs: string[];
  close(): Promise<void>;
}

/**
 * A real gateway on a free loopback port, logging into `logs` (for "no token in the logs" checks). `jwksUrl`
 * is where it fetches the signing keys: a SessionFixture's `jwks.jwksUrl` (test-kit), standing in for the
 * controller's.
 */
export async function startTestGateway(options: { databaseUrl: string; jwksUrl: string; env?: Record<string, string> }): Promise<TestGateway> {
  const { logs, logger } = capturedLogger();
  const config = loadConfig([], {
    PORT: '0',
    DATABASE_URL: options.databaseUrl,
    JWKS_URL: options.jwksUrl,
    RUNNER_WAIT_SECONDS: '20',
    PING_INTERVAL_SECONDS: '5',
    ...options.env,
  });
  const gateway = await startGateway(config, { logger });
  return { gateway, url: gateway.url, wsBase: gateway.url.replace('http', 'ws'), logs, close: () => gateway.close() };
}
