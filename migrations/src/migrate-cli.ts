import { parseArgs } from 'node:util';
import { migrateToLatest } from './migrate.js';
import { openDatabase, redactDatabaseUrl } from './database.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

/**
 * `npm run migrate`: brings the database to the latest schema and exits. With DATABASE_URL (the chart's
 * hook Job) it migrates that database; without, the embedded PostgreSQL of local mode in --data-dir.
 */
const usage = `usage: npm run migrate [-- --database-url URL | --data-dir DIR]

  --database-url URL  PostgreSQL to migrate (env DATABASE_URL)
  --data-dir DIR      without a URL: the local-mode embedded PostgreSQL in DIR (env CLISCALE_DATA_DIR, default .cliscale)
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { 'database-url': { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`migrate: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  let url = values['database-url'] ?? process.env.DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  if (!url) {
    const dataDir = values['data-dir'] ?? process.env.CLISCALE_DATA_DIR ?? '.cliscale';
    embedded = await startEmbeddedPostgres({ dataDir });
    url = embedded.url;
    process.stdout.write(`migrate: embedded PostgreSQL in ${dataDir}\n`);
  } else {
    process.stdout.write(`migrate: ${redactDatabaseUrl(url)}\n`);
  }
  const db = openDatabase({ url, maxConnections: 1 });
  try {
    const applied = await migrateToLatest(db);
    process.stdout.write(applied.length ? `migrate: applied ${applied.join(', ')}\n` : 'migrate: already up to date\n');
    return 0;
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`migrate: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
