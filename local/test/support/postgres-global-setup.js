// One PostgreSQL for the whole test run (initdb costs ~1.3 s; a database per test file costs ~50 ms).
// Tests get their own database from test-database.ts. Plain JS: jest runs global setup before any transform.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../dist/embedded-postgres.js';

export default async function setup() {
  // The folder name is what .ci/run looks for to find a PostgreSQL left behind.
  const dataDir = await mkdtemp(join(tmpdir(), 'cliscale-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir });
  globalThis.__cliscaleTestPostgres = { pg, dataDir };
  // Workers inherit the environment; the admin URL points at the maintenance database.
  process.env.CLISCALE_TEST_PG_URL = pg.url.replace(/\/cliscale$/, '/postgres');
}
