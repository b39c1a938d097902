import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { SessionChanges, sessionQueries } from '@cliscale/database';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { eventually } from '@cliscale/test-kit/eventually';
import type { ChangeListener } from '../src/controller.js';
import type { RunnerBackend } from '../src/runners/runner-backend.js';
import { POLL_WHILE_LISTENING_MS, POLL_WITHOUT_NOTIFICATIONS_MS } from '../src/sessions/settled-wait.js';
import { CODE_HOST, startTestController, type TestController } from './helpers/controller-harness.js';

/**
 * ?wait=ready wakes on the NOTIFY of the session's transition, not on a poll; with the LISTEN connection
 * down it still answers, by its fallback poll. A backend that launches nothing leaves each session
 * `starting`, and the test moves it to `running` from a connection of its own, as another replica would.
 */
const idleBackend: RunnerBackend = {
  kind: 'local',
  start: async () => {},
  launch: async (spec) => ({ runnerName: `idle-${spec.sessionId}` }),
  cancel: async () => {},
  list: async () => [],
  close: async () => {},
};

interface Wait {
  sessionId: string;
  ms: number;
}

/** The real listener, but every wait is reported, and with `pollMs` it waits that long however long it was asked to. */
function observed(inner: SessionChanges, pollMs?: number): { listener: ChangeListener; waits: Wait[] } {
  const waits: Wait[] = [];
  const listener: ChangeListener = {
    get listening() {
      return inner.listening;
    },
    start: () => inner.start(),
    close: () => inner.close(),
    watch: (sessionId) => {
      const watch = inner.watch(sessionId);
      return {
        changeOr: (ms) => {
          waits.push({ sessionId, ms });
          return watch.changeOr(pollMs ?? ms);
        },
        close: () => watch.close(),
      };
    },
  };
  return { listener, waits };
}

const quiet = pino({ level: 'silent' });
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

async function startWith(listener: (db: Knex) => ChangeListener): Promise<TestController> {
  return startTestController({ databaseUrl: t.url, overrides: { backend: idleBackend, sessionChanges: listener } });
}

/** POSTs ?wait=ready, waits until the controller is waiting on the session, then marks it running from outside. */
async function createThenRun(c: TestController, waits: Wait[]): Promise<{ res: Response; ranAt: number }> {
  const answer = c.api('/api/sessions?wait=ready&wait_timeout=100', { method: 'POST', json: { code_url: `https://${CODE_HOST}/r.tar.gz` } });
  const { sessionId } = await eventually(() => waits[0], 30_000, 'the controller to wait on the session');
  const ranAt = Date.now();
  const row = await sessionQueries.transition(t.db, sessionId, ['pending', 'starting'], {
    status: 'running',
    runnerName: `idle-${sessionId}`,
    runnerHost: '127.0.0.1',
    runnerPort: 7681,
  });
  expect(row?.status).toBe('running');
  return { res: await answer, ranAt };
}

describe('POST /api/sessions?wait=ready', () => {
  it('answers on the transition’s notification: its poll is slowed to 10 minutes and it still answers', async () => {
    let observedWaits: Wait[] = [];
    const c = await startWith((db) => {
      const { listener, waits } = observed(SessionChanges.forDatabase(db, { log: quiet, applicationName: 'cliscale-controller-listen' }), 600_000);
      observedWaits = waits;
      return listener;
    });
    try {
      const { res } = await createThenRun(c, observedWaits);
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ status: 'running', session: { status: 'running' } });
      // While notifications arrive the controller itself only polls rarely; here only a notification could end a wait.
      expect(observedWaits[0]!.ms).toBe(POLL_WHILE_LISTENING_MS);
    } finally {
      await c.close();
    }
  });

  it('still answers, by polling every few seconds, when the LISTEN connection cannot be opened', async () => {
    let observedWaits: Wait[] = [];
    let listener: ChangeListener | undefined;
    const c = await startWith((db) => {
      const connection = db.client.config.connection as Knex.PgConnectionConfig & { connectionString: string };
      const nowhere = new URL(connection.connectionString);
      nowhere.pathname = '/no_such_database';
      const broken = new SessionChanges({ ...connection, connectionString: nowhere.toString() }, quiet, 'cliscale-controller-listen');
      ({ listener, waits: observedWaits } = observed(broken));
      return listener;
    });
    try {
      expect(listener!.listening).toBe(false);
      const { res } = await createThenRun(c, observedWaits);
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ status: 'running' });
      expect(observedWaits.length).toBeGreaterThanOrEqual(1);
      for (const wait of observedWaits) expect(wait.ms).toBeLessThanOrEqual(POLL_WITHOUT_NOTIFICATIONS_MS);
    } finally {
      await c.close();
    }
  });

  it('holds one LISTEN connection per controller, named cliscale-controller-listen, closed with the controller', async () => {
    const listeners = async () =>
      Number(
        (
          await t.db.raw(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'cliscale-controller-listen' AND datname = current_database()`)
        ).rows[0].n,
      );
    const c = await startTestController({ databaseUrl: t.url, overrides: { backend: idleBackend } });
    try {
      expect(await listeners()).toBe(1);
    } finally {
      await c.close();
    }
    await eventually(async () => (await listeners()) === 0, 10_000, 'the LISTEN connection to close');
  });
});
