import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { BOB, startTestController, type TestController } from './helpers/controller-harness.js';

let t: TestDatabase;
let c: TestController;
let code: string;

beforeAll(async () => {
  t = await createTestDatabase();
  code = await codeFolder();
  c = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true', TOKEN_TTL_SECONDS: '120' } });
});
afterAll(async () => {
  await c?.close();
  await t?.drop();
  await rm(code, { recursive: true, force: true });
});

async function jwks(controller: TestController): Promise<JSONWebKeySet> {
  const res = await fetch(`${controller.url}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as JSONWebKeySet;
}

async function newSession(command = 'sleep 30'): Promise<{ sessionId: string; token: string }> {
  const res = await c.api('/api/sessions', { method: 'POST', json: { code_url: code, command, install_cmd: '' } });
  expect(res.status).toBe(201);
  return (await res.json()) as { sessionId: string; token: string };
}

describe('terminal tokens', () => {
  it('are RS256 JWTs the published JWKS verifies, with every claim the gateway checks', async () => {
    const { sessionId, token } = await newSession();
    const keySet = await jwks(c);
    expect(keySet.keys).toHaveLength(1);
    expect(keySet.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(keySet.keys[0]).not.toHaveProperty('d');
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: keySet.keys[0]!.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet(keySet), { algorithms: ['RS256'], issuer: 'cliscale', audience: 'cliscale-gateway' });
    expect(payload).toMatchObject({ sid: sessionId, sub: 'alice', mode: 'interact' });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(payload.nbf).toBe(payload.iat);
    const row = await t.db('session_tokens').where({ jti: payload.jti }).first();
    expect(row).toMatchObject({ session_id: sessionId, mode: 'interact', subject: 'alice', consumed_at: null });
    expect(Math.abs(row.expires_at.getTime() - payload.exp! * 1000)).toBeLessThan(1000);
    await expect(jwtVerify(token, createLocalJWKSet(keySet), { audience: 'someone-else' })).rejects.toThrow(/aud/);
  });

  it('are issued again for a live session, as view or interact tokens, each with its own jti', async () => {
    const { sessionId, token: first } = await newSession();
    const view = await c.api(`/api/sessions/${sessionId}/tokens`, { method: 'POST', json: { mode: 'view' } });
    expect(view.status).toBe(201);
    const body = (await view.json()) as Record<string, string>;
    expect(body).toMatchObject({ sessionId, mode: 'view' });
    expect(body.terminalUrl).toBe(`${c.url}/ws/${sessionId}?token=${body.token}`);
    const { payload } = await jwtVerify(body.token!, createLocalJWKSet(await jwks(c)), { algorithms: ['RS256'] });
    expect(payload.mode).toBe('view');
    const noBody = (await (await c.api(`/api/sessions/${sessionId}/tokens`, { method: 'POST' })).json()) as Record<string, string>;
    expect(noBody.mode).toBe('interact');
    const jtis = await t.db('session_tokens').where({ session_id: sessionId }).pluck('jti');
    expect(new Set(jtis).size).toBe(3);
    expect(body.token).not.toBe(first);
    const bad = await c.api(`/api/sessions/${sessionId}/tokens`, { method: 'POST', json: { mode: 'admin' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/mode/);
  });

  it('are refused (409) once the session has ended, saying how it ended', async () => {
    const { sessionId } = await newSession('exit 0');
    const ended = await c.controller.sessions.waitUntilSettled(sessionId, 20_000);
    const done = ended.status === 'running' ? await waitForStatus(sessionId, 'succeeded') : ended;
    expect(done.status).toBe('succeeded');
    const res = await c.api(`/api/sessions/${sessionId}/tokens`, { method: 'POST', json: { mode: 'view' } });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'session already succeeded: there is no terminal to connect to', status: 'succeeded' });
  });
});

async function waitForStatus(sessionId: string, status: string) {
  for (let i = 0; i < 200; i++) {
    const row = await t.db('sessions').where({ id: sessionId }).first();
    if (row.status === status) return row;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`session ${sessionId} never reached ${status}`);
}

describe('signing keys', () => {
  it('publishes every key of JWT_KEYS_DIR, signs with the newest, and keeps kids stable across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cliscale-test-keys-'));
    const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await writeFile(join(dir, '2026-01-01.pem'), pem());
    await writeFile(join(dir, '2026-06-01.pem'), pem());
    await writeFile(join(dir, 'notes.txt'), 'not a key');
    const env = { ALLOW_LOCAL_CODE: 'true', JWT_PRIVATE_KEY: '', JWT_KEYS_DIR: dir };
    const rotated = await startTestController({ databaseUrl: t.url, env });
    try {
      const keySet = await jwks(rotated);
      expect(keySet.keys).toHaveLength(2);
      const res = await rotated.api('/api/sessions', { method: 'POST', key: BOB.key, json: { code_url: code, command: 'true', install_cmd: '' } });
      const { token } = (await res.json()) as { token: string };
      expect(decodeProtectedHeader(token).kid).toBe(keySet.keys[0]!.kid);
      await rotated.close();
      const again = await startTestController({ databaseUrl: t.url, env });
      expect((await jwks(again)).keys.map((k) => k.kid)).toEqual(keySet.keys.map((k) => k.kid));
      await again.close();
    } finally {
      await rotated.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a key that cannot sign RS256, naming the problem', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(startTestController({ databaseUrl: t.url, env: { JWT_PRIVATE_KEY: ec } })).rejects.toThrow(/JWT_PRIVATE_KEY must be an RSA key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(startTestController({ databaseUrl: t.url, env: { JWT_PRIVATE_KEY: small } })).rejects.toThrow(/at least 2048 bits/);
    await expect(startTestController({ databaseUrl: t.url, env: { JWT_PRIVATE_KEY: 'garbage' } })).rejects.toThrow(/not a PEM private key/);
  });
});
