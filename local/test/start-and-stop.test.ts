import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { sampleCliPath } from '../src/banner.js';
import { LocalProcess } from './helpers/local-process.js';

/** Processes whose command line mentions `needle` (PostgreSQL's -D, a supervisor's session folder). */
function processesMentioning(needle: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', needle], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

let local: LocalProcess | undefined;
afterAll(async () => {
  await local?.stop('SIGKILL');
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
    const res = await local.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: sampleCliPath(), command: 'sleep 300', install_cmd: '' } });
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
    expect(processesMentioning('sleep 300')).toEqual([]);
  });
});
