import type { SessionRow } from '@cliscale/database';
import { Session } from '../http/api-schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A session row as the API shows it: camelCase, no credential, environment names without values. */
export function sessionView(row: SessionRow): Session {
  return Session.parse({
    sessionId: row.id,
    status: row.status,
    exitCode: row.exit_code,
    failureReason: row.failure_reason,
    codeUrl: row.code_url,
    command: row.command,
    installCmd: row.install_cmd,
    envNames: Object.keys(row.env ?? {}).sort(),
    runner: { backend: row.runner_backend, name: row.runner_name },
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    runningAt: iso(row.running_at),
    endedAt: iso(row.ended_at),
    expiresAt: iso(row.expires_at),
  });
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
