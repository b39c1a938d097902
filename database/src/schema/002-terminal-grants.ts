import type { Knex } from 'knex';

/**
 * What a browser holds after the gateway consumed its one-time token: an HttpOnly cookie whose SHA-256 is
 * stored here. Any gateway replica (or a restarted one) recognises it, so a page reconnects after network
 * drops and gateway restarts without a new token; it is valid for one session and only while it lasts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('terminal_grants', (t) => {
    t.text('digest').primary();
    t.uuid('session_id').notNullable().references('id').inTable('sessions').onDelete('CASCADE');
    t.text('mode').notNullable();
    t.text('subject').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['session_id'], 'terminal_grants_session_idx');
    t.index(['expires_at'], 'terminal_grants_expires_idx');
  });
  await knex.raw(`ALTER TABLE terminal_grants ADD CONSTRAINT terminal_grants_mode_check CHECK (mode IN ('interact', 'view'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('terminal_grants');
}
