import type { SessionRow } from '@cliscale/database';
import type { Session } from './api-schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * A session row as the API shows it: camelCase, no credential, environment names without values. The route
 * that sends it checks it against the Session schema (a mismatch is the server's bug: 500).
 */
export function sessionView(row: SessionRow): Session {
  return {
    sessionId: row.id,
    status: row.status,
    exitCode: row.exit_code,
    failureReason: row.failure_reason,
    codeUrl: row.code_url,
    command: row.command,
    installCmd: row.install_cmd,
    envNames: Object.keys(row.env ?? {}).sort(),
    // The column is free text; the response schema is what refuses a backend this API does not know.
    runner: { backend: row.runner_backend as Session['runner']['backend'], name: row.runner_name },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    runningAt: iso(row.running_at),
    endedAt: iso(row.ended_at),
    expiresAt: row.expires_at.toISOString(),
  };
}

/** Page cursors are opaque to callers: base64url of the last row's (created_at, id). */
export function encodeCursor(next: { createdAt: Date; id: string }): string {
  return Buffer.from(`${next.createdAt.toISOString()}|${next.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) return undefined;
  return { createdAt, id };
}
