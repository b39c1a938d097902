import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { eventually } from '@cliscale/test-kit/eventually';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { SessionFixture, type FixtureSession } from '@cliscale/test-kit/session-fixture';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';
import { tryUpgrade } from './helpers/upgrade-client.js';

/**
 * Browser → gateway → runner, for real: a real supervisor and a real gateway on loopback. What the controller
 * would do (session rows, the runner, tokens, the JWKS) test-kit's SessionFixture does through the same
 * contracts; the whole path with the controller is local mode's to test.
 */
let t: TestDatabase;
let f: SessionFixture;
let g: TestGateway;
const clients: TtyClient[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  f = await SessionFixture.start({ db: t.db });
  g = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.dispose();
});
afterAll(async () => {
  await g?.close();
  await f?.close();
  await t?.drop();
});

/** A session whose runner is up, with an interactive token (what POST /api/sessions?wait=ready answers). */
const session = (command: string): Promise<FixtureSession> => f.createSession(command);

async function tokenFor(sessionId: string, mode: 'interact' | 'view' = 'interact'): Promise<string> {
  return (await f.issueToken(sessionId, { mode })).token;
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
    await f.endSession(s.sessionId);
  });

  it('view tokens get a read-only terminal: their keystrokes never reach the command', async () => {
    const s = await session('echo reading; while read -r line; do echo "got: $line"; done');
    const viewToken = await tokenFor(s.sessionId, 'view');
    const viewer = await viaGateway(s.sessionId, viewToken);
    const driver = await viaGateway(s.sessionId, s.token);
    // Both are attached to the runner once its preferences arrive (keystrokes before that go nowhere).
    await viewer.until(() => viewer.messages.some((m) => m.type === 'preferences'));
    await driver.until(() => driver.messages.some((m) => m.type === 'preferences'));
    const prefs = viewer.messages.find((m) => m.type === 'preferences') as { preferences: Record<string, unknown> };
    expect(prefs.preferences.readOnly).toBe(true);
    // The command is reading (it says so first): what the keystrokes below do is what it gets of them.
    await driver.waitForText('reading');
    viewer.type('from-viewer\r');
    driver.type('from-driver\r');
    await viewer.waitForText('got: from-driver');
    await new Promise((r) => setTimeout(r, 300));
    expect(driver.text()).not.toContain('got: from-viewer');
    expect(viewer.text()).not.toContain('got: from-viewer');
    await f.endSession(s.sessionId);
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
    await f.endSession(s.sessionId);
  });

  it('a view link gets its own page and cookie: the interactive page still types after it, the view page never does', async () => {
    const s = await session('echo reading; while read -r line; do echo "got: $line"; done');
    const visit = (token: string) => fetch(`${g.url}/ws/${s.sessionId}?token=${token}`, { redirect: 'manual' });
    const interact = await visit(s.token);
    expect(interact.headers.get('location')).toBe(`/ws/${s.sessionId}`);
    const interactCookie = interact.headers.get('set-cookie')!.split(';')[0]!;
    const view = await visit(await tokenFor(s.sessionId, 'view'));
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
    const viaViewPath = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/view?token=${await tokenFor(s.sessionId, 'interact')}`);
    clients.push(driver, viewer, viaViewPath);
    const readOnly = async (client: TtyClient) => {
      await client.until(() => client.messages.some((m) => m.type === 'preferences'));
      return (client.messages.find((m) => m.type === 'preferences') as { preferences: Record<string, unknown> }).preferences.readOnly === true;
    };
    expect(await Promise.all([driver, viewer, viaViewPath].map(readOnly))).toEqual([false, true, true]);
    await driver.waitForText('reading');
    viewer.type('from-viewer\r');
    viaViewPath.type('from-view-path\r');
    driver.type('from-driver\r');
    await viewer.waitForText('got: from-driver');
    await new Promise((r) => setTimeout(r, 300));
    expect(driver.text()).not.toMatch(/got: from-view/);
    await f.endSession(s.sessionId);
  });

  it('tells a client of an ended session how it ended, instead of failing silently', async () => {
    const s = await session('sleep 30');
    const fresh = await f.issueToken(s.sessionId);
    // What DELETE /api/sessions/{id} does: the row says cancelled (NOTIFY), then the runner is stopped.
    await f.endSession(s.sessionId);
    expect(await t.db('sessions').where({ id: s.sessionId }).first()).toMatchObject({ status: 'cancelled', failure_reason: 'cancelled by alice' });
    expect(s.runner.running).toBe(false);
    const refused = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}?token=${fresh.token}`);
    expect(refused).toMatchObject({ status: 410, body: { reason: 'session-ended' } });
    expect(refused.body!.error).toContain('cancelled');
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
    // Neither the gateway's log nor the runner's (which only ever sees its own credential).
    const logs = g.logs.join('') + s.runner.stderr + s.runner.stdout;
    expect(logs).not.toContain(s.token);
    expect(logs).not.toContain(cookie.split(';')[0]!.split('=')[1]);
    await f.endSession(s.sessionId);
  });

  it('limits connections per session (429 with a reason)', async () => {
    const limited = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: { MAX_CONNECTIONS_PER_SESSION: '1' } });
    try {
      const s = await session('sleep 30');
      const second = await f.issueToken(s.sessionId);
      const one = await tryUpgrade(`${limited.wsBase}/ws/${s.sessionId}?token=${s.token}`);
      expect(one.status).toBe(101);
      const two = await tryUpgrade(`${limited.wsBase}/ws/${s.sessionId}?token=${second.token}`);
      expect(two).toMatchObject({ status: 429, body: { reason: 'too-many-connections' } });
      one.ws?.terminate();
      // The refused attempt did not spend its token: once the first connection is gone, it works (until the
      // gateway has seen it go, it is refused for the limit again, never as used).
      const three = await eventually(async () => {
        const attempt = await tryUpgrade(`${limited.wsBase}/ws/${s.sessionId}?token=${second.token}`);
        if (attempt.status !== 101) expect(attempt).toMatchObject({ status: 429, body: { reason: 'too-many-connections' } });
        return attempt.status === 101 && attempt;
      }, 10_000, 'the second token to open a connection');
      expect(three.status).toBe(101);
      three.ws?.terminate();
      await f.endSession(s.sessionId);
    } finally {
      await limited.close();
    }
  });

  it('a page reconnecting to a session that has ended is told how it ended, in the runner\'s words, with the exit code', async () => {
    const s = await session('sleep 2; exit 5');
    const visit = await fetch(`${g.url}/ws/${s.sessionId}?token=${s.token}`, { redirect: 'manual' });
    const cookie = visit.headers.get('set-cookie')!.split(';')[0]!;
    expect(visit.status).toBe(303);
    // The runner exits by itself; the row records how (the fixture does what the controller's local backend does).
    await eventually(async () => (await t.db('sessions').where({ id: s.sessionId }).first()).status === 'failed', 15_000, 'the session to fail');
    const client = await TtyClient.connect(`${g.wsBase}/ws/${s.sessionId}/ws`, { headers: { cookie, origin: g.url }, init: { capabilities: ['exit-status'] } });
    clients.push(client);
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expect(client.text()).toContain('the session has ended: failed: the command exited with code 5');
    expect(client.exitStatus).toEqual({ exitCode: 5, signal: null });
  });
});
