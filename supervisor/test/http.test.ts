import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { startSupervisor, stopAllSupervisors, type SupervisorProcess } from '@cliscale/test-kit/supervisor-process';
import { TtyClient } from '@cliscale/test-kit/tty-client';

afterAll(stopAllSupervisors);

/** Raw upgrade request, to see exactly what a refused handshake answers. */
function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP endpoints without a credential', () => {
  let sup: SupervisorProcess;
  beforeAll(async () => {
    sup = await startSupervisor(['--', 'sleep', '60']);
  });

  it('serves the terminal page with a strict CSP and its assets from itself (no CDN)', async () => {
    const res = await fetch(`${sup.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('assets/client.js');
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${sup.baseUrl}/assets/client.js`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
  });

  it('answers /token byte for byte like ttyd', async () => {
    const res = await fetch(`${sup.baseUrl}/token`);
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(await res.text()).toBe('{"token": ""}');
  });

  it('reports health and status', async () => {
    expect((await fetch(`${sup.baseUrl}/healthz`)).status).toBe(200);
    const status = await sup.status();
    expect(status).toMatchObject({ state: 'running', exitCode: null, clients: 0, columns: 80, rows: 24 });
    expect(status.pid).toBeGreaterThan(1);
  });

  it('gives JSON errors for unknown paths, bad queries and other methods', async () => {
    const missing = await fetch(`${sup.baseUrl}/index.html`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no such path: /index.html' });
    const bad = await fetch(`${sup.baseUrl}/screen?lines=-3`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/lines must be/);
    const post = await fetch(`${sup.baseUrl}/token`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('refuses upgrades with an HTTP status and a reason instead of a silent TCP close', async () => {
    expect(await rawUpgrade(sup.port, '/w', { 'Sec-WebSocket-Protocol': 'tty' })).toMatchObject({ status: 404 });
    expect(await rawUpgrade(sup.port, '/wsx', { 'Sec-WebSocket-Protocol': 'tty' })).toMatchObject({ status: 404 });
    const noProtocol = await rawUpgrade(sup.port, '/ws', {});
    expect(noProtocol.status).toBe(400);
    expect(JSON.parse(noProtocol.body).error).toMatch(/subprotocol "tty"/);
    expect((await rawUpgrade(sup.port, '/ws?arg=1', { 'Sec-WebSocket-Protocol': 'tty' })).status).toBe(101);
  });
});

describe('credential (ttyd -c)', () => {
  let sup: SupervisorProcess;
  const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  beforeAll(async () => {
    sup = await startSupervisor(['-c', 'alice:s3cret', '--', 'sh', '-c', 'echo ready; sleep 60']);
  });

  it('requires Basic auth on every path but /healthz', async () => {
    const res = await fetch(`${sup.baseUrl}/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="ttyd"');
    expect((await fetch(`${sup.baseUrl}/status`)).status).toBe(401);
    expect((await fetch(`${sup.baseUrl}/healthz`)).status).toBe(200);
    const token = await fetch(`${sup.baseUrl}/token`, { headers: { authorization: basic } });
    expect(await token.text()).toBe(`{"token": "${Buffer.from('alice:s3cret').toString('base64')}"}`);
  });

  it('closes with 1008 on a wrong AuthToken and sends nothing of the terminal', async () => {
    const client = await TtyClient.connect(sup.wsUrl, { init: { AuthToken: 'nope' } });
    expect((await client.closed).code).toBe(1008);
    expect(client.outputBytes).toBe(0);
  });

  it('accepts the right AuthToken without a Basic header on the upgrade (Safari, ttyd #1437)', async () => {
    const client = await TtyClient.connect(sup.wsUrl, { init: { AuthToken: Buffer.from('alice:s3cret').toString('base64') } });
    await client.waitForText('ready');
    client.dispose();
  });

  it('refuses an upgrade whose Basic header is wrong', async () => {
    const wrong = `Basic ${Buffer.from('alice:guess').toString('base64')}`;
    await expect(TtyClient.connect(sup.wsUrl, { headers: { authorization: wrong } })).rejects.toMatchObject({ status: 401 });
  });
});

describe('limits', () => {
  it('refuses clients beyond --max-clients with 503 and a reason', async () => {
    const sup = await startSupervisor(['-m', '1', '--', 'sleep', '60']);
    const first = await TtyClient.connect(sup.wsUrl);
    await expect(TtyClient.connect(sup.wsUrl)).rejects.toMatchObject({ status: 503 });
    first.dispose();
    await sup.stop();
  });

  it('checks the Origin with --check-origin (no cross-site WebSocket hijacking)', async () => {
    const sup = await startSupervisor(['--check-origin', '--', 'sleep', '60']);
    await expect(TtyClient.connect(sup.wsUrl, { headers: { origin: 'https://evil.example' } })).rejects.toMatchObject({ status: 403 });
    const ok = await TtyClient.connect(sup.wsUrl, { headers: { origin: `http://127.0.0.1:${sup.port}` } });
    ok.dispose();
    await sup.stop();
  });

  it('explains a bad flag on the terminal and exits 2; a missing program exits 127', async () => {
    const bad = await startSupervisor(['--scrollback', 'lots', '--', 'true'], { waitForListen: false });
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr).toMatch(/scrollback.*expected an integer/);
    const missing = await startSupervisor(['--', 'no-such-program-xyz'], { waitForListen: false });
    expect((await missing.exited).code).toBe(127);
    expect(missing.stderr).toContain('command not found: no-such-program-xyz');
  });

  it('says clearly when the port is taken', async () => {
    const first = await startSupervisor(['--', 'sleep', '60']);
    const clash = await startSupervisor(['--port', String(first.port), '--', 'true'], { waitForListen: false });
    expect((await clash.exited).code).toBe(1);
    expect(clash.stderr).toMatch(/port \d+ is in use/);
    await first.stop();
  });
});
