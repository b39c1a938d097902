import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { ALICE, BOB, startTestController, type TestController } from './helpers/controller-harness.js';

let t: TestDatabase;
let c: TestController;
let code: string;

beforeAll(async () => {
  t = await createTestDatabase();
  code = await codeFolder();
  c = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true', BODY_LIMIT_BYTES: '4096' } });
});
afterAll(async () => {
  await c?.close();
  await t?.drop();
  await rm(code, { recursive: true, force: true });
});

const create = (json: unknown, init: Parameters<TestController['api']>[1] = {}) => c.api('/api/sessions', { method: 'POST', json, ...init });
const sleeper = () => ({ code_url: code, command: 'sleep 30', install_cmd: '' });

describe('POST /api/sessions', () => {
  it('answers 201 at once with a session id, a working terminal URL and a token, and writes the rows', async () => {
    const started = Date.now();
    const res = await create({ ...sleeper(), prompt: 'hi', env: { GREETING: 'hello' } }, { headers: { 'user-agent': 'test-agent/1' } });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(3000);
    const body = (await res.json()) as Record<string, any>;
    expect(Object.keys(body).sort()).toEqual(['session', 'sessionId', 'status', 'terminalUrl', 'token', 'tokenExpiresAt', 'wsUrl']);
    expect(['pending', 'starting', 'running']).toContain(body.status);
    expect(body.terminalUrl).toBe(`${c.url}/ws/${body.sessionId}?token=${body.token}`);
    expect(body.wsUrl).toBe(`${c.url.replace('http', 'ws')}/ws/${body.sessionId}`);
    expect(res.headers.get('location')).toBe(`/api/sessions/${body.sessionId}`);
    expect(body.session).toMatchObject({ sessionId: body.sessionId, codeUrl: code, command: 'sleep 30', installCmd: '', envNames: ['GREETING'] });

    const row = await t.db('sessions').where({ id: body.sessionId }).first();
    expect(row).toMatchObject({ owner: 'alice', code_url: code, prompt: 'hi', env: { GREETING: 'hello' }, runner_backend: 'local' });
    expect(row.runner_credential).toMatch(/^cliscale:[\w-]{32}$/);
    const tokens = await t.db('session_tokens').where({ session_id: body.sessionId });
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ mode: 'interact', subject: 'alice', consumed_at: null });
    const audit = await t.db('audit_log').where({ session_id: body.sessionId }).orderBy('id');
    expect(audit.map((a) => a.event)).toEqual(['token.issued', 'session.created']);
    expect(audit[1]).toMatchObject({ actor: 'alice', client_ip: '127.0.0.1', user_agent: 'test-agent/1' });
  });

  it('builds URLs from PUBLIC_URL when configured, and from X-Forwarded-* only behind a trusted proxy', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'cliscale.example.com' };
    const untrusted = (await (await create(sleeper(), { headers: forwarded })).json()) as { terminalUrl: string; wsUrl: string };
    expect(untrusted.terminalUrl.startsWith(`${c.url}/ws/`)).toBe(true);

    const proxied = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true', TRUST_PROXY: 'loopback' } });
    const configured = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true', PUBLIC_URL: 'https://cli.example.org/' } });
    try {
      const viaProxy = (await (await proxied.api('/api/sessions', { method: 'POST', json: sleeper(), headers: forwarded })).json()) as { terminalUrl: string; wsUrl: string };
      expect(viaProxy.terminalUrl.startsWith('https://cliscale.example.com/ws/')).toBe(true);
      expect(viaProxy.wsUrl.startsWith('wss://cliscale.example.com/ws/')).toBe(true);
      const fromConfig = (await (await configured.api('/api/sessions', { method: 'POST', json: sleeper(), headers: forwarded })).json()) as { terminalUrl: string; wsUrl: string };
      expect(fromConfig.terminalUrl.startsWith('https://cli.example.org/ws/')).toBe(true);
    } finally {
      await proxied.close();
      await configured.close();
    }
  });

  it.each([
    [{}, /code_url/],
    [{ code_url: 'ftp://code.example/x.tar.gz' }, /code_url must use https/],
    [{ code_url: 'relative/path' }, /code_url must be an https URL or an absolute path/],
    [{ code_url: `https://code.example/${'x'.repeat(2050)}` }, /code_url: Too big/i],
    [{ code_url: 'https://other.example/o/r' }, /host other\.example is not allowed/],
    [{ code_url: 'https://user:pw@code.example/r.tar.gz' }, /must not contain credentials/],
    [{ code_url: 'https://10.0.0.1/r.tar.gz' }, /not an IP address/],
    [{ code_url: 'https://[::1]/r.tar.gz' }, /not an IP address/],
    [{ code_url: 'https://code.example/r', instal_cmd: 'npm i' }, /Unrecognized key: "instal_cmd"/],
    [{ code_url: 'https://code.example/r', command: '' }, /command: Too small/i],
    [{ code_url: 'https://code.example/r', command: 'a\u0000b' }, /NUL/],
    [{ code_url: 'https://code.example/r', code_checksum_sha256: 'abc' }, /64 hex digits/],
    [{ code_url: 'https://code.example/r', env: { COMMAND: 'x' } }, /COMMAND is reserved/],
    [{ code_url: 'https://code.example/r', env: { LD_PRELOAD: 'x' } }, /LD_PRELOAD is reserved/],
    [{ code_url: 'https://code.example/r', env: { 'BAD-NAME': 'x' } }, /letters, digits and _/],
    [{ code_url: 'https://code.example/r', env: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`V${i}`, 'x'])) }, /at most 32/],
    [['not', 'an', 'object'], /expected object/],
  ])('refuses %j with 400 and says why', async (body, message) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('refuses malformed JSON (400), other content types (415), bodies over the limit (413) and a missing body (400)', async () => {
    const malformed = await c.api('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code_url": ' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/malformed JSON/);
    const form = await c.api('/api/sessions', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'code_url=x' });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error: string }).error).toMatch(/application\/json/);
    const big = await create({ code_url: code, prompt: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/larger than 4096 bytes/);
    const empty = await c.api('/api/sessions', { method: 'POST' });
    expect(empty.status).toBe(400);
  });

  it('needs a valid API key (401), and never puts keys or tokens in its logs', async () => {
    const none = await create(sleeper(), { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    const wrong = await create(sleeper(), { key: 'alice-key-0123456789abcdeX' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid API key');
    const basic = await c.api('/api/sessions', { method: 'POST', json: sleeper(), key: null, headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);

    const ok = (await (await create(sleeper())).json()) as { token: string };
    const logs = c.logs.join('');
    expect(logs).toContain('"path":"/api/sessions"');
    for (const secret of [ALICE.key, BOB.key, 'alice-key-0123456789abcdeX', ok.token]) expect(logs).not.toContain(secret);
  });
});

describe('GET, DELETE and list', () => {
  it('shows a session to its owner only: 403 for another key, 404 for an unknown id, 400 for a malformed one', async () => {
    const { sessionId } = (await (await create(sleeper())).json()) as { sessionId: string };
    const mine = await c.api(`/api/sessions/${sessionId}`);
    expect(mine.status).toBe(200);
    const view = (await mine.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ sessionId, codeUrl: code, command: 'sleep 30', exitCode: null, failureReason: null, runner: { backend: 'local' } });
    expect(JSON.stringify(view)).not.toContain('cliscale:');
    expect((await c.api(`/api/sessions/${sessionId}`, { key: BOB.key })).status).toBe(403);
    expect((await c.api(`/api/sessions/${sessionId}`, { method: 'DELETE', key: BOB.key })).status).toBe(403);
    expect((await c.api(`/api/sessions/${sessionId}/tokens`, { method: 'POST', key: BOB.key })).status).toBe(403);
    const unknown = await c.api('/api/sessions/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    const malformed = await c.api('/api/sessions/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/session id must be a UUID/);
    expect((await c.api(`/api/sessions/${sessionId}`, { key: null })).status).toBe(401);
  });

  it('cancels a running session: status cancelled, the runner stopped, audited; a second DELETE is 409', async () => {
    const { sessionId } = (await (await c.api('/api/sessions?wait=ready', { method: 'POST', json: sleeper() })).json()) as { sessionId: string };
    const deleted = await c.api(`/api/sessions/${sessionId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ sessionId, status: 'cancelled', failureReason: 'cancelled by alice' });
    const runners = await c.controller.backend.list();
    expect(runners.find((r) => r.sessionId === sessionId)?.state).toBe('cancelled');
    const again = await c.api(`/api/sessions/${sessionId}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: 'session already cancelled', status: 'cancelled' });
    const events = await t.db('audit_log').where({ session_id: sessionId }).pluck('event');
    expect(events).toContain('session.cancelled');
  });

  it("lists the caller's sessions newest first, page by page, without duplicates or gaps", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await (await create(sleeper(), { key: BOB.key })).json()) as { sessionId: string }).sessionId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await c.api(`/api/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: BOB.key });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { sessions: Array<{ sessionId: string }>; nextCursor: string | null };
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((s) => s.sessionId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await c.api('/api/sessions?limit=0', { key: BOB.key })).status).toBe(400);
    expect((await c.api('/api/sessions?cursor=bogus', { key: BOB.key })).status).toBe(400);
    const alices = (await (await c.api('/api/sessions?limit=100')).json()) as { sessions: Array<{ sessionId: string }> };
    expect(alices.sessions.some((s) => ids.includes(s.sessionId))).toBe(false);
  });

  it('answers unknown routes with JSON 404', async () => {
    const res = await c.api('/api/nothing');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no route GET /api/nothing' });
  });
});
