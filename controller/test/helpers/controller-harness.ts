import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturedLogger } from '@cliscale/test-kit/logs';
import { SIGNING_KEY_PEM } from '@cliscale/test-kit/signing-key';
import { SUPERVISOR_BIN } from '@cliscale/test-kit/supervisor-process';
import { loadConfig, startController, type Controller, type ControllerOverrides } from '../../src/index.js';
import type { ResolveHost } from '../../src/sessions/code-url-policy.js';

export const ALICE = { name: 'alice', key: 'alice-key-0123456789abcdef' };
export const BOB = { name: 'bob', key: 'bob-key-0123456789abcdef' };
/** The allowlisted code host in tests. Its "DNS" answer is a public documentation address. */
export const CODE_HOST = 'code.example';

/** Answers like DNS would, from a table (tests never ask a real resolver). */
export function tableResolver(table: Record<string, string[]>): ResolveHost {
  return async (host) => {
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
}

export interface TestController {
  controller: Controller;
  url: string;
  /** Every log line the controller wrote, for "no secret in the logs" checks. */
  logs: string[];
  dataDir: string;
  /** fetch against the controller, with alice's key unless `key` is given (null: no Authorization header). */
  api(path: string, init?: RequestInit & { key?: string | null; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestController(options: {
  databaseUrl: string;
  env?: Record<string, string>;
  overrides?: ControllerOverrides;
}): Promise<TestController> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cliscale-test-controller-'));
  const { logs, logger } = capturedLogger();
  const config = loadConfig([], {
    PORT: '0',
    API_KEYS: `${ALICE.name}:${ALICE.key},${BOB.name}:${BOB.key}`,
    DATABASE_URL: options.databaseUrl,
    SUPERVISOR_BIN,
    CLISCALE_DATA_DIR: dataDir,
    JWT_PRIVATE_KEY: SIGNING_KEY_PEM,
    ALLOWED_CODE_HOSTS: CODE_HOST,
    // Far from the defaults, so that tests about other things never meet these limits by accident.
    SESSION_RATE_LIMIT: '1000',
    AUTH_FAILURE_LIMIT: '1000',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  let controller: Controller;
  try {
    controller = await startController(config, {
      resolveHost: tableResolver({ [CODE_HOST]: ['93.184.216.34'] }),
      logger,
      ...options.overrides,
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    controller,
    url: controller.url,
    logs,
    dataDir,
    api: (path, init = {}) => {
      const { key = ALICE.key, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (key !== null) headers.set('authorization', `Bearer ${key}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${controller.url}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    close: async () => {
      await controller.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
