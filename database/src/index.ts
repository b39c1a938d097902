export { migrateToLatest, pendingMigrations } from './migrate.js';
export { databaseAnswers, openDatabase, redactDatabaseUrl, type DatabaseOptions } from './database.js';
export { recordAudit, type AuditEntry, type AuditEvent } from './audit-log.js';
export { SESSION_CHANGES_CHANNEL, SESSION_STATUSES, ACTIVE_SESSION_STATUSES, FINISHED_SESSION_STATUSES, type SessionStatus, type SessionRow, type SessionTokenRow } from './tables.js';
