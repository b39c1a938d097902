import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { loadLocalConfig } from '../src/config.js';

describe('local mode configuration', () => {
  it('applies the local defaults, which the environment overrides, and always runs sessions locally', () => {
    const defaults = loadLocalConfig([], {});
    expect(defaults.controller.runner.backend).toBe('local');
    expect(defaults.controller.codeUrl.allowLocal).toBe(true);
    expect(defaults.controller.rateLimit.sessions).toBe(60);
    expect(defaults.controller.logLevel).toBe('warn');
    expect(existsSync(defaults.controller.runner.supervisorBin!)).toBe(true);
    expect(defaults.gateway.logLevel).toBe('warn');

    const overridden = loadLocalConfig(['--port', '9999'], { SESSION_RATE_LIMIT: '5', RUNNER_BACKEND: 'kubernetes', LOG_LEVEL: 'info', RUNNER_WAIT_SECONDS: '7' });
    expect(overridden.controller.port).toBe(9999);
    expect(overridden.controller.rateLimit.sessions).toBe(5);
    expect(overridden.controller.runner.backend).toBe('local');
    expect(overridden.gateway.runnerWaitSeconds).toBe(7);
    expect(overridden.gateway.logLevel).toBe('info');
  });

  it("refuses a bad gateway setting before anything starts, naming the variable", () => {
    expect(() => loadLocalConfig([], { RUNNER_WAIT_SECONDS: 'soon' })).toThrow(/RUNNER_WAIT_SECONDS/);
    expect(() => loadLocalConfig([], { SESSION_RATE_LIMIT: '-1' })).toThrow(/SESSION_RATE_LIMIT/);
  });
});
