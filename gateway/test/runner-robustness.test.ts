import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { stopAllSupervisors } from '@cliscale/test-kit/supervisor-process';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { eventually } from '@cliscale/test-kit/eventually';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { SessionFixture } from '@cliscale/test-kit/session-fixture';
import { sessionQueries } from '@cliscale/database';
import { LISTEN_APPLICATION_NAME } from '../src/gateway.js';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';

/**
 * The runner side misbehaving: not listening yet, still starting, killed mid-session. Sessions here are rows
 * the test drives itself (test-kit's SessionFixture writes them and mints their tokens), and runners are
 * supervisors it starts and kills; the gateway must ride it out.
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
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await stopAllSupervisors();
});
afterAll(async () => {
  await g?.close();
  await f?.close();
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

const sessionRow = (fields: { status: 'starting' | 'running'; runnerHost?: string; runnerPort?: number }) =>
  f.insertSession({ command: 'test', expiresInSeconds: 600, ...fields });

async function token(sessionId: string): Promise<string> {
  return (await f.issueToken(sessionId)).token;
}

async function connect(sessionId: string, gateway = g): Promise<TtyClient> {
  const client = await TtyClient.connect(`${gateway.wsBase}/ws/${sessionId}?token=${await token(sessionId)}`, { init: { capabilities: ['exit-status'] } });
  clients.push(client);
  return client;
}

/**
 * The session's runner on `port`, with the row's credential; the row is left as the test set it, and the
 * runner's death is not recorded as the session's end (these tests kill runners and start new ones).
 */
const runner = (sessionId: string, port: number, command: string) => f.startRunner(sessionId, command, { port, markRunning: false, endOnExit: false });

describe('the gateway and its runners', () => {
  it('waits for a session that is still starting, says so, and connects once the runner is up', async () => {
    const sessionId = await sessionRow({ status: 'starting' });
    const client = await connect(sessionId);
    await client.waitForText('the session is starting');
    const port = await freePort();
    await runner(sessionId, port, 'echo runner-is-up; sleep 30');
    // A plain UPDATE, without the NOTIFY: the gateway's poll finds it.
    await t.db('sessions').where({ id: sessionId }).update({ status: 'running', runner_host: '127.0.0.1', runner_port: port });
    await client.waitForText('runner-is-up');
  });

  it('retries a runner that is not listening yet, then connects when it listens', async () => {
    const port = await freePort();
    const sessionId = await sessionRow({ status: 'running', runnerHost: '127.0.0.1', runnerPort: port });
    const client = await connect(sessionId);
    await client.waitForText('connecting to the session');
    // The gateway has tried the runner's address, and tried again, before anything listens there.
    const refusedTries = () => g.logs.filter((l) => l.includes(sessionId) && l.includes('runner not reachable yet')).length;
    await eventually(() => refusedTries() >= 2, 10_000, 'two refused tries');
    await runner(sessionId, port, 'echo late-but-here; sleep 30');
    await client.waitForText('late-but-here');
  });

  it('tells the client when the runner dies mid-session (close 1012), and a reconnect gets the new runner', async () => {
    const port = await freePort();
    const sessionId = await sessionRow({ status: 'running', runnerHost: '127.0.0.1', runnerPort: port });
    const first = await runner(sessionId, port, 'echo first-runner; sleep 30');
    const client = await connect(sessionId);
    await client.waitForText('first-runner');
    first.proc.kill('SIGKILL');
    const closed = await client.closed;
    expect(closed.code).toBe(1012);
    expect(client.text()).toContain('lost the connection to the session; reconnecting');
    await first.exited;
    await runner(sessionId, port, 'echo second-runner; sleep 30');
    const again = await connect(sessionId);
    await again.waitForText('second-runner');
  });

  it('gives up after RUNNER_WAIT_SECONDS with a message (1013), and never crashes on a refused runner', async () => {
    const short = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: { RUNNER_WAIT_SECONDS: '1' } });
    try {
      const sessionId = await sessionRow({ status: 'running', runnerHost: '127.0.0.1', runnerPort: await freePort() });
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

/** The gateway's LISTEN connection, as PostgreSQL sees it. */
async function listenerPids(): Promise<number[]> {
  const rows = await t.db('pg_stat_activity')
    .where({ application_name: LISTEN_APPLICATION_NAME, datname: t.db.raw('current_database()') })
    .select('pid');
  return rows.map((r: { pid: number }) => r.pid);
}

describe('waiting for a starting runner: the controller\'s change notifications wake the terminal', () => {
  // Polling only every 300 s, while a wait ends after 20 s (the harness's RUNNER_WAIT_SECONDS): a terminal
  // that connects here was woken by the NOTIFY of the controller's own transition().
  let slowPoll: TestGateway;
  beforeAll(async () => {
    slowPoll = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: { RUNNER_POLL_SECONDS: '300' } });
  });
  afterAll(() => slowPoll?.close());

  async function startsAndConnects(label: string): Promise<number> {
    const sessionId = await sessionRow({ status: 'starting' });
    const client = await connect(sessionId, slowPoll);
    await client.waitForText('the session is starting');
    const port = await freePort();
    await runner(sessionId, port, `echo ${label}-is-up; sleep 30`);
    const changedAt = Date.now();
    expect(await sessionQueries.transition(t.db, sessionId, ['starting'], { status: 'running', runnerHost: '127.0.0.1', runnerPort: port })).toBeDefined();
    await client.waitForText(`${label}-is-up`);
    return Date.now() - changedAt;
  }

  it('connects as soon as the session is running', async () => {
    const ms = await startsAndConnects('notified');
    console.log(`starting -> running: the terminal shows the runner's output ${ms} ms after the change`);
  });

  it('tells a waiting terminal at once that its session ended before it ran', async () => {
    const sessionId = await sessionRow({ status: 'starting' });
    const client = await connect(sessionId, slowPoll);
    await client.waitForText('the session is starting');
    await sessionQueries.transition(t.db, sessionId, ['starting'], { status: 'cancelled' });
    await client.waitForText('the session has ended: cancelled');
    expect((await client.closed).code).toBe(1000);
  });

  it('listens again after its database connection is killed, and still wakes terminals', async () => {
    // One LISTEN connection per gateway on this database (this file runs two): kill them all.
    const before = await listenerPids();
    expect(before).toHaveLength(2);
    for (const pid of before) await t.db.raw('SELECT pg_terminate_backend(?)', [pid]);
    const after = await eventually(async () => {
      const pids = await listenerPids();
      return pids.length === before.length && !pids.some((pid) => before.includes(pid)) && pids;
    }, 15_000, 'new LISTEN connections');
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
    await startsAndConnects('relistened');
    expect(slowPoll.logs.join('\n')).toContain('session change notifications lost');
    expect(await (await fetch(`${slowPoll.url}/metrics`)).text()).toMatch(/^cliscale_gateway_session_changes_listening 1$/m);
  });
});
