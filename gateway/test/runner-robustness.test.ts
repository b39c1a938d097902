import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { startSupervisor, stopAllSupervisors } from '../../supervisor/test/helpers/supervisor-process.js';
import { TtyClient } from '../../supervisor/test/helpers/tty-client.js';
import { createTestDatabase, type TestDatabase } from '../../migrations/test/support/test-database.js';
import { startTestController, type TestController } from '../../controller/test/helpers/controller-harness.js';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';
import { signToken } from './helpers/tokens.js';

/**
 * The runner side misbehaving: not listening yet, still starting, killed mid-session. Sessions here are rows
 * the test drives itself, and runners are supervisors it starts and kills; the gateway must ride it out.
 */
const CREDENTIAL = 'cliscale:runner-secret-for-tests';
let t: TestDatabase;
let c: TestController;
let g: TestGateway;
const clients: TtyClient[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  c = await startTestController({ databaseUrl: t.url });
  g = await startTestGateway({ databaseUrl: t.url, controllerUrl: c.url });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await stopAllSupervisors();
});
afterAll(async () => {
  await g?.close();
  await c?.close();
  await t?.drop();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sessionRow = (fields: Record<string, unknown>) =>
  t.insertSession({ status: 'starting', command: 'test', runner_credential: CREDENTIAL, expires_at: new Date(Date.now() + 600_000), ...fields });

async function token(sessionId: string): Promise<string> {
  const jti = randomUUID();
  await t.db('session_tokens').insert({ jti, session_id: sessionId, mode: 'interact', subject: 'alice', expires_at: new Date(Date.now() + 300_000) });
  return signToken({ sid: sessionId, jti });
}

async function connect(sessionId: string): Promise<TtyClient> {
  const client = await TtyClient.connect(`${g.wsBase}/ws/${sessionId}?token=${await token(sessionId)}`, { init: { capabilities: ['exit-status'] } });
  clients.push(client);
  return client;
}

const runner = (port: number, command: string) => startSupervisor(['--port', String(port), '--credential', CREDENTIAL, '-W', '--', 'sh', '-c', command]);

describe('the gateway and its runners', () => {
  it('waits for a session that is still starting, says so, and connects once the runner is up', async () => {
    const sessionId = await sessionRow({ status: 'starting' });
    const client = await connect(sessionId);
    await client.waitForText('the session is starting');
    const port = await freePort();
    await runner(port, 'echo runner-is-up; sleep 30');
    await t.db('sessions').where({ id: sessionId }).update({ status: 'running', runner_host: '127.0.0.1', runner_port: port });
    await client.waitForText('runner-is-up');
  });

  it('retries a runner that is not listening yet, then connects when it listens', async () => {
    const port = await freePort();
    const sessionId = await sessionRow({ status: 'running', runner_host: '127.0.0.1', runner_port: port });
    const client = await connect(sessionId);
    await client.waitForText('connecting to the session');
    await new Promise((r) => setTimeout(r, 500));
    await runner(port, 'echo late-but-here; sleep 30');
    await client.waitForText('late-but-here');
  });

  it('tells the client when the runner dies mid-session (close 1012), and a reconnect gets the new runner', async () => {
    const port = await freePort();
    const sessionId = await sessionRow({ status: 'running', runner_host: '127.0.0.1', runner_port: port });
    const first = await runner(port, 'echo first-runner; sleep 30');
    const client = await connect(sessionId);
    await client.waitForText('first-runner');
    first.proc.kill('SIGKILL');
    const closed = await client.closed;
    expect(closed.code).toBe(1012);
    expect(client.text()).toContain('lost the connection to the session; reconnecting');
    await first.exited;
    await runner(port, 'echo second-runner; sleep 30');
    const again = await connect(sessionId);
    await again.waitForText('second-runner');
  });

  it('gives up after RUNNER_WAIT_SECONDS with a message (1013), and never crashes on a refused runner', async () => {
    const short = await startTestGateway({ databaseUrl: t.url, controllerUrl: c.url, env: { RUNNER_WAIT_SECONDS: '1' } });
    try {
      const sessionId = await sessionRow({ status: 'running', runner_host: '127.0.0.1', runner_port: await freePort() });
      const jwt = await token(sessionId);
      const client = await TtyClient.connect(`${short.wsBase}/ws/${sessionId}?token=${jwt}`);
      clients.push(client);
      const closed = await client.closed;
      expect(closed.code).toBe(1013);
      expect(client.text()).toContain('did not become reachable within 1 s');
      expect((await fetch(`${short.url}/healthz`)).status).toBe(200);
    } finally {
      await short.close();
    }
  });
});
