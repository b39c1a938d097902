import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { eventually } from '@cliscale/test-kit/eventually';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { SessionFixture } from '@cliscale/test-kit/session-fixture';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';
import { hs256WithPublicKey, signToken, unsignedToken } from './helpers/tokens.js';
import { tryUpgrade } from './helpers/upgrade-client.js';

/** Tokens of every wrong kind against two gateways; the JWKS and the sessions (with runners) come from test-kit's SessionFixture. */
let t: TestDatabase;
let f: SessionFixture;
let gateways: TestGateway[];
let sessionId: string;
let otherSessionId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  f = await SessionFixture.start({ db: t.db });
  // 200 simultaneous attempts from one address on one session: the connection limits (counted while an attempt
  // is checked, before its token is) are not what this file tests.
  const limits = { MAX_CONNECTIONS_PER_IP: '1000', MAX_CONNECTIONS_PER_SESSION: '1000', RUNNER_MAX_CLIENTS: '1000' };
  gateways = await Promise.all([0, 1].map(() => startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: limits })));
  const create = async () => (await f.createSession('sleep 60')).sessionId;
  [sessionId, otherSessionId] = await Promise.all([create(), create()]);
});
afterAll(async () => {
  await Promise.all(gateways?.map((g) => g.close()) ?? []);
  await f?.close();
  await t?.drop();
});

/** A jti the database knows for `sid` (stored as the controller stores it). */
async function storedJti(sid: string, expiresInSeconds = 300): Promise<string> {
  return (await f.storeToken(sid, { expiresInSeconds })).jti;
}

const upgrade = (token: string, sid = sessionId, gateway = 0) => tryUpgrade(`${gateways[gateway]!.wsBase}/ws/${sid}?token=${encodeURIComponent(token)}`);

describe('token checks', () => {
  it('lets a well-formed token through (the control case for everything below)', async () => {
    const result = await upgrade(await signToken({ sid: sessionId, jti: await storedJti(sessionId) }));
    expect(result.status).toBe(101);
    result.ws?.terminate();
  });

  it.each([
    ['forged (another key)', async () => signToken({ sid: sessionId, jti: await storedJti(sessionId) }, { stranger: true }), 401, 'invalid-token'],
    ['expired', async () => signToken({ sid: sessionId, jti: await storedJti(sessionId), exp: -10 }), 401, 'expired-token'],
    ['not yet valid', async () => signToken({ sid: sessionId, jti: await storedJti(sessionId), nbf: 120 }), 401, 'token-not-yet-valid'],
    ['for another audience', async () => signToken({ sid: sessionId, jti: await storedJti(sessionId), aud: 'someone-else' }), 401, 'wrong-audience'],
    ['from another issuer', async () => signToken({ sid: sessionId, jti: await storedJti(sessionId), iss: 'evil' }), 401, 'wrong-issuer'],
    ['alg: none', async () => unsignedToken({ sid: sessionId, jti: await storedJti(sessionId) }), 401, 'invalid-token'],
    ['HS256 keyed with the public key', async () => hs256WithPublicKey({ sid: sessionId, jti: await storedJti(sessionId) }), 401, 'invalid-token'],
    ['for another session', async () => signToken({ sid: otherSessionId, jti: await storedJti(otherSessionId) }), 403, 'wrong-session'],
    ['with a jti of another session', async () => signToken({ sid: sessionId, jti: await storedJti(otherSessionId) }), 403, 'wrong-session'],
    ['with a jti nobody issued', async () => signToken({ sid: sessionId, jti: randomUUID() }), 401, 'unknown-token'],
    ['whose stored jti has expired', async () => signToken({ sid: sessionId, jti: await storedJti(sessionId, -1) }), 401, 'expired-token'],
    ['that is not a JWT at all', async () => 'garbage', 401, 'invalid-token'],
  ])('refuses a token %s with %s %s', async (_what, make, status, reason) => {
    const result = await upgrade(await make());
    expect(result).toMatchObject({ status, body: { reason } });
    expect(result.body!.error.length).toBeGreaterThan(10);
  });

  it('lets exactly one of 200 simultaneous upgrades with one token through, across two gateways', async () => {
    const token = await signToken({ sid: sessionId, jti: await storedJti(sessionId) });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => upgrade(token, sessionId, i % 2)));
    const opened = results.filter((r) => r.status === 101);
    expect(opened).toHaveLength(1);
    for (const r of opened) r.ws?.terminate();
    const refused = results.filter((r) => r.status !== 101).map((r) => `${r.status} ${r.body?.reason}`);
    expect(refused).toEqual(Array(199).fill('401 token-used'));
  });

  it('records every refusal with its reason in the audit log, and never the token', async () => {
    const token = await signToken({ sid: sessionId, jti: randomUUID() });
    await upgrade(token);
    const reasons = ['unknown-token', 'expired-token', 'token-used', 'invalid-token'];
    // Each refusal is written after its 401 is sent.
    const rows = await eventually(async () => {
      const found = await t.db('audit_log').where({ event: 'token.refused', session_id: sessionId });
      return reasons.every((reason) => found.some((r) => r.detail.reason === reason)) && found;
    }, 10_000, 'a token.refused audit row for each reason');
    expect(rows.map((r) => r.detail.reason)).toEqual(expect.arrayContaining(reasons));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(gateways.flatMap((g) => g.logs).join('')).not.toContain(token);
  });

  it('keeps verifying with the cached keys while the controller is down', async () => {
    await upgrade(await signToken({ sid: sessionId, jti: await storedJti(sessionId) })).then((r) => r.ws?.terminate());
    const id = await f.insertSession({ status: 'starting', command: 'x', expiresInSeconds: 60 });
    // The controller's JWKS goes away (nothing listens there any more).
    await f.jwks.close();
    await expect(fetch(f.jwks.jwksUrl)).rejects.toThrow();
    const result = await upgrade(await signToken({ sid: id, jti: await storedJti(id) }), id);
    expect(result.status).toBe(101);
    result.ws?.terminate();
    const metrics = await (await fetch(`${gateways[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/cliscale_gateway_refusals_total\{reason="token-used"\} \d+/);
    expect(metrics).toMatch(/cliscale_gateway_refusals_total\{reason="invalid-token"\} \d+/);
    expect(metrics).toContain('cliscale_gateway_connections_open');
  });
});
