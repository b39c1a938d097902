import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { eventually } from '@cliscale/test-kit/eventually';
import { sampleCliPath } from '../src/banner.js';
import { LocalProcess } from './helpers/local-process.js';

/** Processes whose command line mentions `needle` (PostgreSQL's -D; a sleep of a duration no other test uses). */
function processesMentioning(needle: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', needle], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

let local: LocalProcess | undefined;
afterAll(async () => {
  // Ctrl+C (SIGKILL after 20 s): a SIGKILL alone would leave PostgreSQL running.
  await local?.stop();
});

describe('npm start', () => {
  it('serves the API, the JWKS and the terminals on one port, and Ctrl+C stops every process it started', async () => {
    const started = Date.now();
    local = await LocalProcess.start();
    const startMs = Date.now() - started;
    expect(local.stdout).toContain('starting PostgreSQL');
    expect(local.stdout).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/api\/sessions/);
    expect(local.stdout).toContain(`"code_url":"`);
    expect((await fetch(`${local.url}/.well-known/jwks.json`)).status).toBe(200);
    expect((await fetch(`${local.url}/ws/assets/client.js`)).status).toBe(200);
    const res = await local.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: sampleCliPath(), command: 'sleep 317', install_cmd: '' } });
    expect(res.status).toBe(201);
    const { terminalUrl } = (await res.json()) as { terminalUrl: string };
    expect(terminalUrl.startsWith(`${local.url}/ws/`)).toBe(true);
    expect(processesMentioning(`postgres -D ${local.dataDir}`)).toHaveLength(1);
    expect(processesMentioning('cliscale-supervisor.js').length).toBeGreaterThan(0);
    console.log(`local mode: cold start (initdb + migrate) ${startMs} ms`);

    const exit = await local.stop('SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(local.stdout).toContain('cliscale: stopped');
    expect(processesMentioning(`postgres -D ${local.dataDir}`)).toEqual([]);
    expect(processesMentioning('sleep 317')).toEqual([]);
  });

  it('killed outright (SIGKILL), it leaves nothing running: supervisors stop when their pipe closes, PostgreSQL by its owner watch', async () => {
    local = await LocalProcess.start();
    const postgres = processesMentioning(`postgres -D ${local.dataDir}`);
    expect(postgres).toHaveLength(1);
    try {
      const res = await local.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: sampleCliPath(), command: 'sleep 318', install_cmd: '' } });
      expect(res.status).toBe(201);
      // Reachable comes first; the command starts once the code is copied.
      await eventually(() => processesMentioning('sleep 318').length > 0, 10_000, 'the session command to start');
      expect(processesMentioning('sleep 318').length).toBeGreaterThan(0);
      const killedAt = Date.now();
      await local.stop('SIGKILL');
      const dataDir = local.dataDir;
      await eventually(() => processesMentioning(`postgres -D ${dataDir}`).length === 0, 20_000, 'PostgreSQL to stop');
      console.log(`local mode SIGKILLed: PostgreSQL gone ${Date.now() - killedAt} ms later`);
      await eventually(() => processesMentioning('sleep 318').length === 0, 20_000, 'the session command to stop');
      expect(processesMentioning('sleep 318')).toEqual([]);
      expect(processesMentioning(`postgres -D ${dataDir}`)).toEqual([]);
    } finally {
      // Should the watch have failed, the test must not leave PostgreSQL running.
      for (const line of postgres) {
        try {
          process.kill(Number(line.split(' ')[0]), 'SIGINT');
        } catch {
          // already gone
        }
      }
    }
  });
});
