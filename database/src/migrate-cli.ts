import { parseArgs } from 'node:util';
import { migrateToLatest } from './migrate.js';
import { openDatabase, redactDatabaseUrl } from './connection.js';

/**
 * `npm run migrate`: brings the database at DATABASE_URL to the latest schema and exits (the chart's
 * pre-install/pre-upgrade hook Job runs it). Local mode migrates its embedded PostgreSQL at every start.
 */
const usage = `usage: npm run migrate [-- --database-url URL]

  --database-url URL  PostgreSQL to migrate (env DATABASE_URL)
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { 'database-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`migrate: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write(`migrate: no database: set DATABASE_URL or pass --database-url (npm start migrates its own)\n${usage}`);
    return 2;
  }
  process.stdout.write(`migrate: ${redactDatabaseUrl(url)}\n`);
  const db = openDatabase({ url, maxConnections: 1 });
  try {
    const applied = await migrateToLatest(db);
    process.stdout.write(applied.length ? `migrate: applied ${applied.join(', ')}\n` : 'migrate: already up to date\n');
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`migrate: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
