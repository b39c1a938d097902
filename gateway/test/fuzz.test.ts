import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { concurrently } from '@cliscale/test-kit/concurrently';
import { eventually } from '@cliscale/test-kit/eventually';
import { closeCodeOf, NASTY_FRAMES, NASTY_HEADERS, NASTY_TARGETS, randomRequests, rawRequest, sendRaw, wsFrame } from '@cliscale/test-kit/hostile';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { SessionFixture, type FixtureSession } from '@cliscale/test-kit/session-fixture';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';
import { binaryFrame, closeCodeAfter, ECHO_COMMAND, rawTerminal, servesNormalClient } from './helpers/hostile-peers.js';

/**
 * The gateway's listener against hostile input: request lines, headers, upgrade requests, random bytes,
 * and WebSocket frames and first messages from a valid token holder. After every batch the gateway must be
 * alive and serve a normal client end to end (a fresh token, an init, a line typed, the runner's answer),
 * and no runner connection may be left behind. Bounded: a few hundred inputs, a few at a time.
 */
let t: TestDatabase;
let f: SessionFixture;
let g: TestGateway;
let s: FixtureSession;
let port: number;

beforeAll(async () => {
  t = await createTestDatabase();
  f = await SessionFixture.start({ db: t.db });
  g = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: { MAX_CONNECTIONS_PER_IP: '100' } });
  port = Number(new URL(g.url).port);
  s = await f.createSession(ECHO_COMMAND);
});
afterAll(async () => {
  await g?.close();
  await f?.close();
  await t?.drop();
});

/** How many clients the session's runner has now (its /status, with its credential). */
async function runnerClients(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${s.runner.port}/status`, { headers: { authorization: `Basic ${Buffer.from(s.credential).toString('base64')}` } });
  return ((await res.json()) as { clients: number }).clients;
}

async function stillServes(): Promise<void> {
  expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  await servesNormalClient(g, f, s.sessionId);
  // Every hostile connection is gone, and so is every runner connection made for it.
  await eventually(async () => (await runnerClients()) === 0, 10_000, 'the runner to have no clients left');
}

const page = () => `/ws/${s.sessionId}`;
/** Plain requests ask the gateway to close after its answer, so each ends as soon as it is answered. */
const CLOSE = 'Connection: close';
/** A reply, and not a server error: anything the gateway cannot use is a 4xx. */
const answered = (status: number | undefined) => status !== undefined && status < 500;

describe('the gateway listener under hostile input', () => {
  it('answers nasty request targets with a status, for every method', async () => {
    const cases = NASTY_TARGETS.flatMap((target) => ['GET', 'HEAD', 'POST', 'OPTIONS'].map((method) => ({ target, method })));
    const replies = await concurrently(cases, 8, ({ target, method }) => sendRaw(port, rawRequest(target, [CLOSE], { method })));
    const unanswered = cases.filter((_, i) => !answered(replies[i]!.status)).map((c) => `${c.method} ${c.target.slice(0, 60)}: ${replies[cases.indexOf(c)]!.text.slice(0, 80)}`);
    expect(unanswered).toEqual([]);
    // The same targets as upgrades: a refusal with a status, never a dropped socket or a crash.
    const upgrades = await concurrently(NASTY_TARGETS, 8, (target) => sendRaw(port, rawRequest(target, [], { upgrade: true })));
    expect(NASTY_TARGETS.filter((_, i) => !answered(upgrades[i]!.status))).toEqual([]);
    await stillServes();
  });

  it('answers nasty headers on the page route, the upgrade route and health', async () => {
    const token = async () => `?token=${(await f.issueToken(s.sessionId)).token}`;
    const cases = await Promise.all(
      NASTY_HEADERS.flatMap((header) => [
        { header, target: page(), upgrade: false },
        { header, target: '/healthz', upgrade: false },
        { header, target: page(), upgrade: true },
      ]).map(async (c, i) => ({ ...c, target: i % 2 ? c.target : c.target === page() ? page() + (await token()) : c.target })),
    );
    const replies = await concurrently(cases, 8, (c) => sendRaw(port, rawRequest(c.target, c.upgrade ? [c.header] : [c.header, CLOSE], { upgrade: c.upgrade }), 3000));
    const bad = cases.flatMap((c, i) => {
      const { status } = replies[i]!;
      // With a valid token, nasty but harmless headers may still open the terminal (101): closed here at once.
      return answered(status) || (c.upgrade && status === 101) ? [] : [`${c.upgrade ? 'upgrade' : 'GET'} ${c.target.slice(0, 50)} + ${c.header.slice(0, 60)}: ${status}`];
    });
    expect(bad).toEqual([]);
    await stillServes();
  });

  it('survives random bytes and random request lines', async () => {
    const requests = randomRequests(200);
    await concurrently(requests, 20, (bytes) => sendRaw(port, bytes, 500));
    await stillServes();
  });

  it('closes a token holder who sends nasty frames with the right code, as first message and after the init', async () => {
    const init = binaryFrame(JSON.stringify({ AuthToken: '', columns: 80, rows: 24 }));
    const wrong: string[] = [];
    const check = (when: string, name: string, code: number | undefined, expected: readonly number[]) => {
      if (code === undefined || !expected.includes(code)) wrong.push(`${name} ${when}: ${code}, expected ${expected.join(' or ')}`);
    };
    for (const nasty of NASTY_FRAMES) {
      check('first', nasty.name, await closeCodeAfter(g, f, s.sessionId, [nasty.frame]), nasty.closeCodes);
      // Right after the init: the runner connection is being opened.
      check('right after the init', nasty.name, await closeCodeAfter(g, f, s.sessionId, [init, nasty.frame]), nasty.closeCodes);
      // Once the runner has answered: the relay is running.
      const socket = await rawTerminal(g, f, s.sessionId);
      socket.write(init);
      await new Promise((resolve) => socket.once('data', resolve));
      const code = closeCodeOf(socket);
      socket.write(nasty.frame);
      check('once relayed', nasty.name, await code, nasty.closeCodes);
    }
    expect(wrong).toEqual([]);
    await stillServes();
  });

  it('refuses junk first messages (1008) and messages over the limit (1009)', async () => {
    const junk = ['', '0ls\r', '1{"columns":1,"rows":1}', '2', '3', '{', '{"columns":', '[1,2]', 'null', '\u0000\u0001', '{"columns":"x"}'.padEnd(5000, ' ')];
    for (const message of junk) {
      // An empty or broken init JSON counts as junk too; '{"columns":"x"}' is a valid object (size defaults).
      const expected = message.startsWith('{"columns":"x"}') ? undefined : 1008;
      const code = await closeCodeAfter(g, f, s.sessionId, [binaryFrame(message)], expected ? 10_000 : 1_000);
      expect([JSON.stringify(message.slice(0, 20)), code]).toEqual([JSON.stringify(message.slice(0, 20)), expected]);
    }
    const tooBig = binaryFrame(Buffer.alloc((1 << 20) + 1, 0x7b));
    expect(await closeCodeAfter(g, f, s.sessionId, [tooBig])).toBe(1009);
    const fragments = [wsFrame({ opcode: 0x2, payload: Buffer.alloc(700 << 10, 0x30), fin: false }), wsFrame({ opcode: 0x0, payload: Buffer.alloc(700 << 10, 0x30) })];
    expect(await closeCodeAfter(g, f, s.sessionId, fragments)).toBe(1009);
    await stillServes();
  });
});
