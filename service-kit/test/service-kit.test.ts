import { describe, expect, it } from '@jest/globals';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import {
  Backoff,
  backoffDelay,
  basicToken,
  bearerToken,
  escapeControlCharacters,
  listen,
  processAlive,
  readiness,
  refuseUpgrade,
  sendJson,
  withoutControlCharacters,
} from '../src/index.js';

describe('service kit', () => {
  it('answers JSON and refuses upgrades with a real HTTP response that says why', async () => {
    const server = createServer((_req, res) => sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '3' }));
    server.on('upgrade', (_req, socket) => refuseUpgrade(socket, 403, { error: 'origin not allowed', reason: 'forbidden-origin' }));
    const { port } = await listen(server, '127.0.0.1', 0);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'slow down' });

      const upgrade = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', headers: { connection: 'Upgrade', upgrade: 'websocket' } });
        req.on('response', (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString())).on('end', () => resolve({ status: r.statusCode, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(upgrade).toEqual({ status: 403, body: JSON.stringify({ error: 'origin not allowed', reason: 'forbidden-origin' }) });

      // A client that is gone before the refusal is written costs the server nothing.
      const gone = connect(port, '127.0.0.1');
      gone.on('error', () => {});
      gone.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      gone.destroy();
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(429);
    } finally {
      server.close();
    }
  });

  it('reads Bearer and Basic credentials and nothing that only looks like them', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(`Bearer ${'x'.repeat(20_000)}`)).toBeUndefined();
    expect(basicToken('Basic dXNlcjpwYXNz')).toBe('dXNlcjpwYXNz');
    expect(basicToken('Bearer dXNlcjpwYXNz')).toBeUndefined();
  });

  it('backs off exponentially to a cap, with jitter in the upper half of the window', () => {
    const o = { initialMs: 100, maxMs: 1000 };
    const b = new Backoff(o);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
    expect(backoffDelay(3, { ...o, jitter: true }, () => 0)).toBe(400);
    expect(backoffDelay(3, { ...o, jitter: true }, () => 1)).toBe(800);
    expect(backoffDelay(1e9, o)).toBe(1000);
  });

  it('keeps control characters out of text shown in terminals and logs', () => {
    expect(withoutControlCharacters(' failed:\x1b[31m red\r\n\x9b2J ')).toBe('failed: [31m red 2J');
    expect(escapeControlCharacters('a\x1bb\nc')).toBe('a\\x1bb\\x0ac');
  });

  it('tells a live process from a gone one, and readiness from unavailability', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 12345)).toBe(false);
    expect(readiness(true)).toEqual({ status: 200, body: { status: 'ok', database: 'ok' } });
    expect(readiness(false)).toEqual({ status: 503, body: { status: 'unavailable', database: 'unavailable' } });
  });
});
