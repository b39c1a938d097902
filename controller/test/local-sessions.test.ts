import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { eventually } from '@cliscale/test-kit/eventually';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { startTestController, type TestController } from './helpers/controller-harness.js';
import { finalState as pollFinalState } from '@cliscale/test-kit/session-polling';

/** Sessions that really run: the local backend starts a supervisor per session, as local mode does. */
let t: TestDatabase;
let c: TestController;
let code: string;
const clients: TtyClient[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  code = await codeFolder({ 'job.sh': 'echo "job says $1"\nexit "$2"\n' });
  c = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true' } });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.dispose();
});
afterAll(async () => {
  await c?.close();
  await t?.drop();
  await rm(code, { recursive: true, force: true });
});

async function start(body: Record<string, unknown>, query = '?wait=ready'): Promise<Record<string, any>> {
  const res = await c.api(`/api/sessions${query}`, { method: 'POST', json: { code_url: code, install_cmd: '', ...body } });
  expect(res.status).toBe(201);
  return (await res.json()) as Record<string, any>;
}

const finalState = (sessionId: string) => pollFinalState((path) => c.api(path), sessionId);

/** Attaches to the session's supervisor directly, with the credential only the gateway is meant to hold. */
async function attach(sessionId: string): Promise<TtyClient> {
  const row = await t.db('sessions').where({ id: sessionId }).first();
  const client = await TtyClient.connect(`ws://${row.runner_host}:${row.runner_port}/ws`, {
    init: { AuthToken: Buffer.from(row.runner_credential).toString('base64') },
  });
  clients.push(client);
  return client;
}

describe('sessions on the local runner', () => {
  it('?wait=ready answers once the supervisor is reachable; only its credential opens it', async () => {
    const created = await start({ command: 'echo "ready: $GREETING / $PROMPT"; sleep 30', env: { GREETING: 'hello' }, prompt: 'do it' });
    expect(created.status).toBe('running');
    expect(created.session.runningAt).not.toBeNull();
    const row = await t.db('sessions').where({ id: created.sessionId }).first();
    expect(row.runner_host).toBe('127.0.0.1');
    const anonymous = await fetch(`http://127.0.0.1:${row.runner_port}/status`);
    expect(anonymous.status).toBe(401);
    const client = await attach(created.sessionId);
    await client.waitForText('ready: hello / do it');
    await c.api(`/api/sessions/${created.sessionId}`, { method: 'DELETE' });
  });

  it("records the command's exit code: 0 is succeeded, 3 is failed with the code as the reason", async () => {
    const ok = await start({ command: 'sh job.sh one 0' }, '');
    const bad = await start({ command: 'sh job.sh two 3' }, '');
    expect(await finalState(ok.sessionId)).toMatchObject({ status: 'succeeded', exitCode: 0, failureReason: null });
    const failed = await finalState(bad.sessionId);
    expect(failed).toMatchObject({ status: 'failed', exitCode: 3, failureReason: 'the command exited with code 3' });
    expect(failed.endedAt).not.toBeNull();
    // Written just after the status change the API reports.
    const ended = await eventually(() => t.db('audit_log').where({ session_id: bad.sessionId, event: 'session.ended' }).first(), 10_000, 'the session.ended audit row');
    expect(ended.detail).toMatchObject({ status: 'failed', exitCode: 3 });
    // The session's code directory is scratch space; the supervisor's log stays.
    expect(existsSync(join(c.dataDir, 'sessions', bad.sessionId, 'code'))).toBe(false);
    expect(existsSync(join(c.dataDir, 'sessions', bad.sessionId, 'supervisor.log'))).toBe(true);
  });

  it("says why a session failed before its command ran: the supervisor's own account, not just its exit code", async () => {
    const install = await start({ command: 'sh job.sh never 0', install_cmd: 'echo "resolving"; exit 9' }, '');
    expect(await finalState(install.sessionId)).toMatchObject({
      status: 'failed',
      exitCode: 4,
      failureReason: 'install failed: "echo "resolving"; exit 9" exited with code 9',
    });
    const missing = await start({ code_url: join(code, 'no-such-folder'), command: 'sh job.sh never 0' }, '');
    const fetch = await finalState(missing.sessionId);
    expect(fetch).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(fetch.failureReason).toMatch(/^fetch failed: .*no-such-folder/);
    // COMMAND is a shell program: sh itself starts, and its 127 is the command's own exit code.
    const notFound = await start({ command: 'no-such-program --flag' }, '');
    expect(await finalState(notFound.sessionId)).toMatchObject({ status: 'failed', exitCode: 127, failureReason: 'the command exited with code 127' });
  });

  it('passes caller values to the command as data: quotes and $(...) are never evaluated', async () => {
    const marker = join(code, 'pwned');
    const created = await start({ command: 'printf "<%s>\\n" "$EVIL"; sleep 30', env: { EVIL: `'"; touch ${marker}; $(touch ${marker}) \`touch ${marker}\`` } });
    const client = await attach(created.sessionId);
    await client.waitForText(`<'"; touch ${marker}; $(touch ${marker}) \`touch ${marker}\`>`);
    expect(existsSync(marker)).toBe(false);
    await c.api(`/api/sessions/${created.sessionId}`, { method: 'DELETE' });
  });

  it('cancel stops the supervisor and its command', async () => {
    const created = await start({ command: 'sleep 300' });
    const client = await attach(created.sessionId);
    const res = await c.api(`/api/sessions/${created.sessionId}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const closed = await client.closed;
    expect(closed.code).toBeGreaterThan(0);
    const runner = (await c.controller.backend.list()).find((r) => r.sessionId === created.sessionId);
    expect(runner?.state).toBe('cancelled');
    expect((await finalState(created.sessionId)).status).toBe('cancelled');
  });

  it('a session past SESSION_MAX_SECONDS is stopped and marked expired', async () => {
    const short = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true', SESSION_MAX_SECONDS: '2' } });
    try {
      const res = await short.api('/api/sessions?wait=ready', { method: 'POST', json: { code_url: code, install_cmd: '', command: 'sleep 300' } });
      const { sessionId, session } = (await res.json()) as { sessionId: string; session: { expiresAt: string; createdAt: string } };
      expect(Math.abs(Date.parse(session.expiresAt) - Date.parse(session.createdAt) - 2000)).toBeLessThan(200);
      expect(await finalState(sessionId)).toMatchObject({ status: 'expired', failureReason: 'deadline exceeded' });
    } finally {
      await short.close();
    }
  });

  it('a runner that cannot start its command fails the session with the supervisor exit code (127)', async () => {
    const created = await start({ command: 'definitely-not-a-program-xyz' }, '');
    expect(await finalState(created.sessionId)).toMatchObject({ status: 'failed', exitCode: 127 });
  });
});
