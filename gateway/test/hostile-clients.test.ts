import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { eventually } from '@cliscale/test-kit/eventually';
import { NASTY_FRAMES, rawRequest, sendRaw, wsFrame } from '@cliscale/test-kit/hostile';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { SessionFixture } from '@cliscale/test-kit/session-fixture';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';
import { binaryFrame, closeAfterMessages, closeCodeAfter, connected, ECHO_COMMAND, servesNormalClient } from './helpers/hostile-peers.js';
import { tryUpgrade } from './helpers/upgrade-client.js';

/**
 * Token holders who misbehave (bad frames, junk first messages, a full runner, sockets gone mid-upgrade):
 * each is refused with the right close code or status, and the gateway keeps serving everyone else.
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

async function viaGateway(sessionId: string, init: Record<string, unknown> = {}): Promise<TtyClient> {
  const { token } = await f.issueToken(sessionId);
  const client = await TtyClient.connect(`${g.wsBase}/ws/${sessionId}?token=${token}`, { init });
  clients.push(client);
  return client;
}

/** A client whose runner is reached (so what it types is relayed). */
async function typingClient(sessionId: string, init: Record<string, unknown> = {}): Promise<TtyClient> {
  const client = await viaGateway(sessionId, init);
  await connected(client);
  return client;
}

const wsUrl = async (sessionId: string) => `${g.wsBase}/ws/${sessionId}?token=${(await f.issueToken(sessionId)).token}`;

/** Settles with `promise`, or rejects after `ms`: bounds how long the gateway may take to say something. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

describe('bad WebSocket frames from a token holder', () => {
  it('closes that client with 1007 / 1009 / 1002; the gateway and other terminals keep working', async () => {
    const s = await f.createSession(ECHO_COMMAND);
    const other = await typingClient(s.sessionId);
    other.type('before\r');
    await other.waitForText('got-before');
    const utf8 = NASTY_FRAMES.find((n) => n.name.includes('UTF-8'))!;
    expect(await closeCodeAfter(g, f, s.sessionId, [utf8.frame])).toBe(1007);
    expect(await closeCodeAfter(g, f, s.sessionId, [wsFrame({ opcode: 0x2, payload: '0', declaredLength: 2 ** 40 })])).toBe(1009);
    expect(await closeCodeAfter(g, f, s.sessionId, [wsFrame({ opcode: 0x3, payload: 'x' })])).toBe(1002);
    // After a valid init, once the runner is connected: a message over MAX_MESSAGE_BYTES (1 MiB here).
    const init = binaryFrame(JSON.stringify({ AuthToken: '', columns: 80, rows: 24 }));
    const tooBig = binaryFrame(Buffer.concat([Buffer.from('0'), Buffer.alloc((1 << 20) + 16, 0x61)]));
    expect(await closeCodeAfter(g, f, s.sessionId, [init, tooBig])).toBe(1009);
    other.type('after\r');
    await other.waitForText('got-after');
    await servesNormalClient(g, f, s.sessionId);
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    await f.endSession(s.sessionId);
  });
});

describe('a first message that is not a valid init', () => {
  it('is refused (1008) before anything is opened to the runner, so retries never fill its client slots', async () => {
    // Two client slots on the runner: leaked upstream connections would fill them at once.
    const s = await f.createSession(ECHO_COMMAND, { runner: { env: { MAX_CLIENTS: '2' } } });
    const junk: Array<Array<Buffer | string>> = [[Buffer.from('0echo input first\r')], [Buffer.from('{not json')], [Buffer.from('1{"columns":10,"rows":10}')], [Buffer.from('[]')]];
    for (let round = 0; round < 2; round++) {
      for (const messages of junk) {
        const closed = await within(closeAfterMessages(await wsUrl(s.sessionId), messages), 10_000, 'close');
        expect(closed.code).toBe(1008);
        expect(closed.reason).toContain('init');
      }
    }
    // A very wide window is clamped to the protocol's limits, not refused: this one holds one slot...
    const wide = await typingClient(s.sessionId, { columns: 5000, rows: 9000 });
    wide.type('wide\r');
    await wide.waitForText('got-wide');
    // ...and a normal client gets the other.
    await servesNormalClient(g, f, s.sessionId);
    await f.endSession(s.sessionId);
  });
});

describe('a session whose runner is full', () => {
  it('tells the next viewer at once (1013, too many viewers) instead of waiting for the runner', async () => {
    const s = await f.createSession(ECHO_COMMAND, { runner: { env: { MAX_CLIENTS: '1' } } });
    const first = await typingClient(s.sessionId);
    first.type('first\r');
    await first.waitForText('got-first');
    const second = await viaGateway(s.sessionId);
    const closed = await within(second.closed, 8_000, 'close of the viewer over the cap');
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain('too many viewers');
    expect(second.text()).toContain('too many viewers');
    // The first one is unaffected.
    first.type('still\r');
    await first.waitForText('got-still');
    await f.endSession(s.sessionId);
  });
});

describe('the terminal page with the token in Authorization: Bearer', () => {
  it('sets the cookie as ?token= does, so the page it leads to can connect', async () => {
    const s = await f.createSession(ECHO_COMMAND);
    const visit = await fetch(`${g.url}/ws/${s.sessionId}`, { redirect: 'manual', headers: { authorization: `Bearer ${s.token}` } });
    expect(visit.status).toBe(303);
    expect(visit.headers.get('location')).toBe(`/ws/${s.sessionId}`);
    const cookie = visit.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^cliscale_terminal=/);
    const page = await fetch(`${g.url}/ws/${s.sessionId}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const ws = await tryUpgrade(`${g.wsBase}/ws/${s.sessionId}/ws`, { cookie, origin: g.url });
    expect(ws.status).toBe(101);
    ws.ws?.terminate();
    await f.endSession(s.sessionId);
  });
});

describe('what clients are told', () => {
  it('never shows internals (addresses, driver messages) stored as a failure reason', async () => {
    for (const reason of ['the runner could not be created: connect ECONNREFUSED 127.0.0.1:36727', 'Undefined binding(s) detected. Are you missing a .transacting(trx) call?']) {
      // A terminal waiting for a session that then fails to start.
      const sessionId = await f.insertSession({ command: 'true' });
      const client = await viaGateway(sessionId);
      await client.waitForText('the session is starting');
      await f.endSession(sessionId, { status: 'failed', failureReason: reason });
      await client.closed;
      expect(client.text()).toContain('the session has ended: failed');
      expect(client.text()).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|transacting|binding/);
    }
  });
});

describe('connection slots', () => {
  let limited: TestGateway;
  beforeAll(async () => {
    limited = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: { MAX_CONNECTIONS_PER_SESSION: '1' } });
  });
  afterAll(() => limited?.close());

  it('are released when the handshake fails after the checks, or the client leaves mid-upgrade', async () => {
    const s = await f.createSession(ECHO_COMMAND);
    const port = Number(new URL(limited.url).port);
    for (let i = 0; i < 3; i++) {
      const badKey = await f.issueToken(s.sessionId);
      const reply = await sendRaw(port, rawRequest(`/ws/${s.sessionId}?token=${badKey.token}`, ['Sec-WebSocket-Key: not-base64'], { upgrade: true }));
      expect(reply.status).toBe(400);
      // Gone before the gateway has checked the token.
      const gone = await f.issueToken(s.sessionId);
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(rawRequest(`/ws/${s.sessionId}?token=${gone.token}`, [], { upgrade: true }));
      socket.destroy();
    }
    await eventually(async () => {
      try {
        await servesNormalClient(limited, f, s.sessionId, 5_000);
        return true;
      } catch {
        return false;
      }
    }, 15_000, 'a normal client to get the one slot');
    await f.endSession(s.sessionId);
  });
});
