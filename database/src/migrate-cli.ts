import { Command } from 'commander';
import { z } from 'zod';
import { configOrExit, flagsAsEnv, parseEnv, postgresUrl } from '@cliscale/service-kit';
import { openDatabase, redactDatabaseUrl } from './connection.js';
import { migrateToLatest } from './migrate.js';

/**
 * `npm run migrate`: brings the database at DATABASE_URL to the latest schema and exits (the chart's
 * pre-install/pre-upgrade hook Job runs it). Local mode migrates its embedded PostgreSQL at every start.
 */
const ENV = z.object({
  DATABASE_URL: postgresUrl.optional(),
});

function program(): Command {
  return new Command('npm run migrate --')
    .description('Applies the pending migrations to the database and exits.')
    .option('--database-url <url>', 'PostgreSQL to migrate (env DATABASE_URL)')
    .addHelpText('after', '\nLocal mode (npm start) migrates its embedded PostgreSQL by itself.');
}

async function main(): Promise<number> {
  const { DATABASE_URL: url } = configOrExit('migrate', () =>
    parseEnv(ENV, { ...process.env, ...flagsAsEnv(program(), process.argv.slice(2), { databaseUrl: 'DATABASE_URL' }) }),
  );
  if (!url) {
    process.stderr.write('migrate: no database: set DATABASE_URL or pass --database-url (npm start migrates its own)\n');
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
