export { databaseAnswers, openDatabase, redactDatabaseUrl, type DatabaseOptions } from './connection.js';
export { migrateToLatest, pendingMigrations } from './migrate.js';
export {
  ACTIVE_SESSION_STATUSES,
  FINISHED_SESSION_STATUSES,
  SESSION_STATUSES,
  type AccessMode,
  type SessionRow,
  type SessionStatus,
  type SessionTokenRow,
} from './tables.js';
export * as sessionQueries from './sessions.js';
export type { NewSession, NewToken, Page, StatusChange } from './sessions.js';
export {
  encodeSessionChange,
  notifySessionChange,
  parseSessionChange,
  SESSION_CHANGES_CHANNEL,
  SessionChanges,
  type ChangeLog,
  type SessionChange,
  type SessionWatch,
} from './session-changes.js';
export { consumeToken, createGrant, findGrant, findTerminalSession, type Access, type TerminalSession, type TokenRefusal } from './terminal-access.js';
export { prune, type PruneSettings } from './pruning.js';
export { recordAudit, type AuditEntry, type AuditEvent } from './audit-log.js';
