import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { startTestController, type TestController } from './helpers/controller-harness.js';

/** A TCP relay on loopback in front of PostgreSQL that the test can cut and restore, like a network outage. */
class CuttableRelay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

let t: TestDatabase;
let relay: CuttableRelay;
let c: TestController;

beforeAll(async () => {
  t = await createTestDatabase();
  const url = new URL(t.url);
  relay = new CuttableRelay({ host: url.hostname, port: Number(url.port) });
  await relay.open();
  url.port = String(relay.port);
  c = await startTestController({ databaseUrl: url.toString() });
});
afterAll(async () => {
  await relay?.cut();
  await c?.close();
  await t?.drop();
});

describe('database outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is unreachable, /readyz says so, and recovers when it returns', async () => {
    expect((await c.api('/api/sessions')).status).toBe(200);
    await relay.cut();
    const during = await c.api('/api/sessions');
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBeTruthy();
    expect(((await during.json()) as { error: string }).error).toMatch(/unavailable/);
    const ready = await fetch(`${c.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', database: 'unavailable' });
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200);

    await relay.open();
    expect((await fetch(`${c.url}/readyz`)).status).toBe(200);
    expect((await c.api('/api/sessions')).status).toBe(200);
  });
});
