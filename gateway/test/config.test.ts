import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('refuses a per-session limit above the runners\' client cap (RUNNER_MAX_CLIENTS, default 100)', () => {
    expect(loadConfig([], { MAX_CONNECTIONS_PER_SESSION: '100' }).maxConnectionsPerSession).toBe(100);
    expect(() => loadConfig([], { MAX_CONNECTIONS_PER_SESSION: '101' })).toThrow(ConfigError);
    expect(() => loadConfig([], { MAX_CONNECTIONS_PER_SESSION: '30', RUNNER_MAX_CLIENTS: '20' })).toThrow(/must not exceed RUNNER_MAX_CLIENTS/);
    expect(loadConfig([], { MAX_CONNECTIONS_PER_SESSION: '500', RUNNER_MAX_CLIENTS: '500' }).maxConnectionsPerSession).toBe(500);
  });
});
