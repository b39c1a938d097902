/** Row shapes of the tables in schema/, as pg returns them (timestamps as Date, jsonb parsed). */

export const SESSION_STATUSES = ['pending', 'starting', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** A session in one of these still has (or is about to have) a runner. */
export const ACTIVE_SESSION_STATUSES: readonly SessionStatus[] = ['pending', 'starting', 'running'];
/** Final: once a session is in one of these, nothing changes its status again. */
export const FINISHED_SESSION_STATUSES: readonly SessionStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export interface SessionRow {
  id: string;
  owner: string;
  status: SessionStatus;
  code_url: string;
  command: string;
  install_cmd: string | null;
  prompt: string | null;
  code_checksum_sha256: string | null;
  env: Record<string, string>;
  client_ip: string | null;
  runner_backend: string;
  runner_name: string | null;
  runner_host: string | null;
  runner_port: number | null;
  runner_credential: string;
  exit_code: number | null;
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
  running_at: Date | null;
  ended_at: Date | null;
  expires_at: Date;
}

/** What a terminal token or grant allows: typing into the session, or only watching it. */
export type AccessMode = 'interact' | 'view';

export interface TerminalGrantRow {
  /** SHA-256 (hex) of the cookie's value: the value itself is never stored. */
  digest: string;
  session_id: string;
  mode: AccessMode;
  subject: string;
  expires_at: Date;
}

export interface SessionTokenRow {
  jti: string;
  session_id: string;
  mode: AccessMode;
  subject: string;
  issued_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
  consumed_by_ip: string | null;
}
