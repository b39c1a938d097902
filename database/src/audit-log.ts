import type { Knex } from 'knex';

/** What the audit log records. The controller writes the session and token events, the gateway the rest. */
export type AuditEvent =
  | 'session.created'
  | 'session.cancelled'
  | 'session.ended'
  | 'token.issued'
  | 'token.refused'
  | 'terminal.connected'
  | 'terminal.disconnected';

export interface AuditEntry {
  event: AuditEvent;
  sessionId?: string | null;
  /** The API key name, or the token's subject. Never a secret. */
  actor?: string | null;
  clientIp?: string | null;
  userAgent?: string | null;
  /** Small structured facts (reason, mode, bytes, duration). Never a token or key. */
  detail?: Record<string, unknown>;
}

const MAX_USER_AGENT = 512;

/** Appends one entry. `db` may be a transaction, so an entry commits or rolls back with what it describes. */
export async function recordAudit(db: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    event: entry.event,
    session_id: entry.sessionId ?? null,
    actor: entry.actor ?? null,
    client_ip: entry.clientIp ?? null,
    user_agent: entry.userAgent ? entry.userAgent.slice(0, MAX_USER_AGENT) : null,
    detail: JSON.stringify(entry.detail ?? {}),
  });
}
