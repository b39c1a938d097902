import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { eventually } from '@cliscale/test-kit/eventually';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { startTestController, type TestController } from '../../controller/test/helpers/controller-harness.js';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';
import { tryUpgrade } from './helpers/upgrade-client.js';

/** Browser → gateway → runner, for real: controller, local supervisor, gateway, all on loopback. */
let t: TestDatabase;
let c: TestController;
let g: TestGateway;
let code: string;
const clients: TtyClient[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  code = await codeFolder();
  c = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true' } });
  g = await startTestGateway({ databaseUrl: t.url, controllerUrl: c.url });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.dispose();
});
afterAll(async () => {
  await g?.close();
  await c?.close();
  await t?.drop();
  await rm(code, { recursive: true, force: true });
});

async function session(command: string): Promise<{ sessionId: string; token: string; terminalUrl: string }> {
  const res = await c.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: code, command, install_cmd: '' } });
  expect(res.status).toBe(201);
  return (await res.json()) as { sessionId: string; token: string; terminalUrl: string };
}

async function viaGateway(sessionId: string, token: string, capabilities: string[] = ['exit-status']): Promise<TtyClient> {
  const client = await TtyClient.connect(`${g.wsBase}/ws/${sessionId}?token=${token}`, { init: { capabilities } });
  clients.push(client);
  return client;
}

describe('the terminal through the gateway', () => {
  it('relays the runner both ways with a one-time token, then the exit status; the token works once', async () => {
    const s = await session('echo started; read -r line; echo "you said $line"; exit 4');
    const client = await viaGateway(s.sessionId, s.token);
    await client.waitForText('started');
    client.type('hello gateway\r');
    await client.waitForText('you said hello gateway');
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expect(client.exitStatus).toEqual({ exitCode: 4, signal: null });

    const again = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}?token=${s.token}`);
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ reason: 'token-used' });
    const consumed = await t.db('session_tokens').where({ session_id: s.sessionId }).first();
    expect(consumed.consumed_at).not.toBeNull();
    expect(consumed.consumed_by_ip).toBe('127.0.0.1');
    // Written in the background: a refusal after its 401 is sent, a disconnection after the close.
    const expected = ['terminal.connected', 'terminal.disconnected', 'token.refused'];
    const events = await eventually(async () => {
      const found: string[] = await t.db('audit_log').where({ session_id: s.sessionId }).pluck('event');
      return expected.every((e) => found.includes(e)) && found;
    }, 10_000, `audit rows ${expected.join(', ')}`);
    expect(events).toEqual(expect.arrayContaining(expected));
  });

  it('accepts the token as Authorization: Bearer too, and on the page path /ws/{id}/ws', async () => {
    const s = await session('echo bearer-ok; sleep 30');
    const client = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/ws`, { headers: { authorization: `Bearer ${s.token}` } });
    clients.push(client);
    await client.waitForText('bearer-ok');
    await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
  });

  it('view tokens get a read-only terminal: their keystrokes never reach the command', async () => {
    const s = await session('while read -r line; do echo "got: $line"; done');
    const viewRes = await c.api(`/api/sessions/${s.sessionId}/tokens`, { method: 'POST', json: { mode: 'view' } });
    const { token: viewToken } = (await viewRes.json()) as { token: string };
    const viewer = await viaGateway(s.sessionId, viewToken);
    const driver = await viaGateway(s.sessionId, s.token);
    // Both are attached to the runner once its preferences arrive (keystrokes before that go nowhere).
    await viewer.until(() => viewer.messages.some((m) => m.type === 'preferences'));
    await driver.until(() => driver.messages.some((m) => m.type === 'preferences'));
    const prefs = viewer.messages.find((m) => m.type === 'preferences') as { preferences: Record<string, unknown> };
    expect(prefs.preferences.readOnly).toBe(true);
    // Keystrokes typed while the code is still being copied reach no command either: wait until it starts
    // (the supervisor prints this line and starts the command in the same step).
    await driver.waitForText('▸ starting');
    viewer.type('from-viewer\r');
    driver.type('from-driver\r');
    await viewer.waitForText('got: from-driver');
    await new Promise((r) => setTimeout(r, 300));
    expect(driver.text()).not.toContain('got: from-viewer');
    expect(viewer.text()).not.toContain('got: from-viewer');
    await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
  });

  it('says why it refuses: no credential, unknown session path, wrong subprotocol, cross-origin', async () => {
    const s = await session('sleep 30');
    expect(await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}`)).toMatchObject({ status: 401, body: { reason: 'missing-credential' } });
    expect(await tryUpgrade(`${g.wsBase}/ws/not-a-session?token=x`)).toMatchObject({ status: 404, body: { reason: 'not-found' } });
    const evil = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}?token=${s.token}`, { origin: 'https://evil.example' });
    expect(evil).toMatchObject({ status: 403, body: { reason: 'forbidden-origin' } });
    // The refused cross-origin attempt did not spend the token.
    const same = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}?token=${s.token}`, { origin: g.url });
    expect(same.status).toBe(101);
    same.ws?.terminate();
    await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
  });

  it('a view link gets its own page and cookie: the interactive page still types after it, the view page never does', async () => {
    const s = await session('while read -r line; do echo "got: $line"; done');
    const tokenFor = async (mode: string) =>
      ((await (await c.api(`/api/sessions/${s.sessionId}/tokens`, { method: 'POST', json: { mode } })).json()) as { token: string }).token;
    const visit = (token: string) => fetch(`${g.url}/ws/${s.sessionId}?token=${token}`, { redirect: 'manual' });
    const interact = await visit(s.token);
    expect(interact.headers.get('location')).toBe(`/ws/${s.sessionId}`);
    const interactCookie = interact.headers.get('set-cookie')!.split(';')[0]!;
    const view = await visit(await tokenFor('view'));
    expect(view.status).toBe(303);
    expect(view.headers.get('location')).toBe(`/ws/${s.sessionId}/view`);
    const viewSetCookie = view.headers.get('set-cookie')!;
    expect(viewSetCookie).toMatch(new RegExp(`^cliscale_view=[\\w-]{43}; Max-Age=\\d+; Path=/ws/${s.sessionId}/view; HttpOnly; SameSite=Strict$`));
    const viewCookie = viewSetCookie.split(';')[0]!;
    expect((await fetch(`${g.url}/ws/${s.sessionId}/view`, { headers: { cookie: viewCookie } })).status).toBe(200);
    // The page at /ws/{id}/view loads its assets relative to itself.
    expect((await fetch(`${g.url}/ws/${s.sessionId}/assets/client.js`)).status).toBe(200);
    // The view cookie is not sent to /ws/{id}/ws; under /ws/{id}/view a browser sends both (longest path first).
    const driver = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/ws`, { headers: { cookie: interactCookie, origin: g.url } });
    const viewer = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/view/ws`, { headers: { cookie: `${viewCookie}; ${interactCookie}`, origin: g.url } });
    // An interactive token presented under /view gets a read-only terminal as well.
    const viaViewPath = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/view?token=${await tokenFor('interact')}`);
    clients.push(driver, viewer, viaViewPath);
    const readOnly = async (client: TtyClient) => {
      await client.until(() => client.messages.some((m) => m.type === 'preferences'));
      return (client.messages.find((m) => m.type === 'preferences') as { preferences: Record<string, unknown> }).preferences.readOnly === true;
    };
    expect(await Promise.all([driver, viewer, viaViewPath].map(readOnly))).toEqual([false, true, true]);
    await driver.waitForText('▸ starting');
    viewer.type('from-viewer\r');
    viaViewPath.type('from-view-path\r');
    driver.type('from-driver\r');
    await viewer.waitForText('got: from-driver');
    await new Promise((r) => setTimeout(r, 300));
    expect(driver.text()).not.toMatch(/got: from-view/);
    await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
  });

  it('tells a client of an ended session how it ended, instead of failing silently', async () => {
    const s = await session('sleep 30');
    const fresh = (await (await c.api(`/api/sessions/${s.sessionId}/tokens`, { method: 'POST' })).json()) as { token: string };
    await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
    const refused = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}?token=${fresh.token}`);
    expect(refused).toMatchObject({ status: 410, body: { reason: 'session-ended' } });
  });

  it('the page route trades the token for an HttpOnly cookie and a URL without it; nothing echoes the token', async () => {
    const s = await session('sleep 30');
    const first = await fetch(`${g.url}/ws/${s.sessionId}?token=${s.token}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/ws/${s.sessionId}`);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^cliscale_terminal=[\\w-]{43}; Max-Age=\\d+; Path=/ws/${s.sessionId}; HttpOnly; SameSite=Strict$`));
    const page = await fetch(`${g.url}/ws/${s.sessionId}`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    const html = await page.text();
    expect(html).toContain('<html');
    expect(html).not.toContain(s.token);
    const noCookie = await fetch(`${g.url}/ws/${s.sessionId}`);
    expect(noCookie.status).toBe(401);
    expect(await noCookie.text()).not.toContain(s.sessionId.repeat(2));
    const asset = await fetch(`${g.url}/ws/assets/client.js`);
    expect(asset.status).toBe(200);
    // The cookie opens the WebSocket as often as the page reconnects.
    for (let i = 0; i < 2; i++) {
      const ws = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}/ws`, { cookie: cookie.split(';')[0]!, origin: g.url });
      expect(ws.status).toBe(101);
      ws.ws?.terminate();
    }
    const logs = g.logs.join('') + c.logs.join('');
    expect(logs).not.toContain(s.token);
    expect(logs).not.toContain(cookie.split(';')[0]!.split('=')[1]);
    await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
  });

  it('limits connections per session (429 with a reason)', async () => {
    const limited = await startTestGateway({ databaseUrl: t.url, controllerUrl: c.url, env: { MAX_CONNECTIONS_PER_SESSION: '1' } });
    try {
      const s = await session('sleep 30');
      const second = (await (await c.api(`/api/sessions/${s.sessionId}/tokens`, { method: 'POST' })).json()) as { token: string };
      const one = await tryUpgrade(`${limited.wsBase}/ws/${s.sessionId}?token=${s.token}`);
      expect(one.status).toBe(101);
      const two = await tryUpgrade(`${limited.wsBase}/ws/${s.sessionId}?token=${second.token}`);
      expect(two).toMatchObject({ status: 429, body: { reason: 'too-many-connections' } });
      one.ws?.terminate();
      // The refused attempt did not spend its token: once the first connection is gone, it works.
      await new Promise((r) => setTimeout(r, 200));
      const three = await tryUpgrade(`${limited.wsBase}/ws/${s.sessionId}?token=${second.token}`);
      expect(three.status).toBe(101);
      three.ws?.terminate();
      await c.api(`/api/sessions/${s.sessionId}`, { method: 'DELETE' });
    } finally {
      await limited.close();
    }
  });

  it('a page reconnecting to a session that has ended is told how it ended, in the runner\'s words, with the exit code', async () => {
    const s = await session('sleep 1; exit 5');
    const visit = await fetch(`${g.url}/ws/${s.sessionId}?token=${s.token}`, { redirect: 'manual' });
    const cookie = visit.headers.get('set-cookie')!.split(';')[0]!;
    for (let i = 0; i < 100 && (await t.db('sessions').where({ id: s.sessionId }).first()).status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/ws`, { headers: { cookie, origin: g.url }, init: { capabilities: ['exit-status'] } });
    clients.push(client);
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expect(client.text()).toContain('the session has ended: failed: the command exited with code 5');
    expect(client.exitStatus).toEqual({ exitCode: 5, signal: null });
  });
});
