import type { Knex } from 'knex';
import * as initial from './schema/001-initial.js';
import * as terminalGrants from './schema/002-terminal-grants.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * The migrations, in order. Listed in code rather than read from a folder so that the bundled controller,
 * the `npm run migrate` command and the TypeScript tests all run exactly the same modules.
 */
const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['001-initial', initial],
  ['002-terminal-grants', terminalGrants],
];

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};

/**
 * Brings the schema to the latest version. Safe to run from several processes at once: knex holds its
 * migration lock row while it works. Returns the names of the migrations applied now.
 */
export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}

/** Names of the migrations not yet applied (for `/readyz` and the migrate command's report). */
export async function pendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list({ migrationSource: source })) as [unknown, Array<{ file: string } | string>];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
