import type { Knex } from 'knex';

/**
 * Sessions, their one-time terminal tokens, the audit log and the rate limiter's counters.
 *
 * Why the shapes are what they are:
 * - `session_tokens.consumed_at` is set by one atomic UPDATE in the gateway
 *   (`... WHERE jti = ? AND consumed_at IS NULL AND expires_at > now() RETURNING ...`): a token is used at
 *   most once however many replicas race for it. The row stays until it expires, so a replay is refused
 *   as "already used" rather than "unknown".
 * - The audit log has no foreign key: it outlives the sessions it describes.
 * - `rate_limits` is the table rate-limiter-flexible's Postgres store expects (key, points, expire in ms).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (t) => {
    t.uuid('id').primary();
    t.text('owner').notNullable();
    t.text('status').notNullable();
    t.text('code_url').notNullable();
    t.text('command').notNullable();
    t.text('install_cmd');
    t.text('prompt');
    t.text('code_checksum_sha256');
    t.jsonb('env').notNullable().defaultTo('{}');
    t.text('client_ip');
    t.text('runner_backend').notNullable();
    t.text('runner_name');
    t.text('runner_host');
    t.integer('runner_port');
    // The supervisor's ttyd credential: only the gateway presents it, so nothing else in the cluster can
    // attach to a runner even if a NetworkPolicy is missing.
    t.text('runner_credential').notNullable();
    t.integer('exit_code');
    t.text('failure_reason');
    // Millisecond precision, as JavaScript dates have: the list's page cursor is a (created_at, id) pair
    // that must compare equal to the row it came from.
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('running_at', { useTz: true, precision: 3 });
    t.timestamp('ended_at', { useTz: true, precision: 3 });
    t.timestamp('expires_at', { useTz: true, precision: 3 }).notNullable();
    t.index(['owner', 'created_at', 'id'], 'sessions_owner_created_idx');
    t.index(['status', 'updated_at'], 'sessions_status_updated_idx');
  });
  await knex.raw(`ALTER TABLE sessions ADD CONSTRAINT sessions_status_check
    CHECK (status IN ('pending', 'starting', 'running', 'succeeded', 'failed', 'cancelled', 'expired'))`);

  await knex.schema.createTable('session_tokens', (t) => {
    t.text('jti').primary();
    t.uuid('session_id').notNullable().references('id').inTable('sessions').onDelete('CASCADE');
    t.text('mode').notNullable();
    t.text('subject').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('consumed_at', { useTz: true });
    t.text('consumed_by_ip');
    t.index(['session_id'], 'session_tokens_session_idx');
    t.index(['expires_at'], 'session_tokens_expires_idx');
  });
  await knex.raw(`ALTER TABLE session_tokens ADD CONSTRAINT session_tokens_mode_check CHECK (mode IN ('interact', 'view'))`);

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('event').notNullable();
    t.uuid('session_id');
    t.text('actor');
    t.text('client_ip');
    t.text('user_agent');
    t.jsonb('detail').notNullable().defaultTo('{}');
    t.index(['session_id', 'at'], 'audit_log_session_idx');
    t.index(['at'], 'audit_log_at_idx');
    t.index(['event', 'at'], 'audit_log_event_idx');
  });

  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire');
    t.index(['expire'], 'rate_limits_expire_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
  await knex.schema.dropTable('audit_log');
  await knex.schema.dropTable('session_tokens');
  await knex.schema.dropTable('sessions');
}
