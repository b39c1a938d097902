import { fromUtf8, withCommand, type Bytes } from './bytes.js';
import { ServerCommand } from './commands.js';
import { formatJsonC } from './json-c.js';

/** What cliscale tells a client that asked for it (capability `exit-status`) just before closing with 1000. */
export interface ExitStatus {
  exitCode: number;
  /** Name of the signal that ended the command, e.g. "SIGKILL", or null. */
  signal: string | null;
}

export type ServerMessage =
  | { type: 'output'; data: Uint8Array }
  | { type: 'title'; title: string }
  | { type: 'preferences'; preferences: Record<string, unknown> }
  | { type: 'exit-status'; status: ExitStatus }
  | { type: 'invalid'; command: number; reason: string }
  | { type: 'unknown'; command: number };

export function encodeOutput(data: Uint8Array | string): Bytes {
  return withCommand(ServerCommand.OUTPUT, data);
}

export function encodeTitle(title: string): Bytes {
  return withCommand(ServerCommand.SET_WINDOW_TITLE, title);
}

export function encodePreferences(preferences: Record<string, unknown>): Bytes {
  return withCommand(ServerCommand.SET_PREFERENCES, formatJsonC(preferences));
}

export function encodeExitStatus(status: ExitStatus): Bytes {
  return withCommand(ServerCommand.EXIT_STATUS, JSON.stringify(status));
}

export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  if (bytes.length === 0) return { type: 'invalid', command: -1, reason: 'empty message' };
  const command = bytes[0]!;
  const payload = bytes.subarray(1);
  switch (command) {
    case ServerCommand.OUTPUT:
      return { type: 'output', data: payload };
    case ServerCommand.SET_WINDOW_TITLE:
      return { type: 'title', title: fromUtf8(payload) };
    case ServerCommand.SET_PREFERENCES:
    case ServerCommand.EXIT_STATUS: {
      let value: unknown;
      try {
        value = JSON.parse(fromUtf8(payload));
      } catch {
        return { type: 'invalid', command, reason: 'payload is not JSON' };
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return { type: 'invalid', command, reason: 'payload is not a JSON object' };
      }
      if (command === ServerCommand.SET_PREFERENCES) {
        return { type: 'preferences', preferences: value as Record<string, unknown> };
      }
      const v = value as Record<string, unknown>;
      if (typeof v.exitCode !== 'number') return { type: 'invalid', command, reason: 'exitCode missing' };
      return {
        type: 'exit-status',
        status: { exitCode: v.exitCode, signal: typeof v.signal === 'string' ? v.signal : null },
      };
    }
    default:
      return { type: 'unknown', command };
  }
}
