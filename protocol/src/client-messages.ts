import { fromUtf8, utf8, withCommand, type Bytes } from './bytes.js';
import { ClientCommand, DEFAULT_COLUMNS, DEFAULT_ROWS, MAX_COLUMNS, MAX_ROWS } from './commands.js';

/** The first message a client sends: `{"AuthToken":"…","columns":C,"rows":R}` (plus cliscale's `capabilities`). */
export interface InitMessage {
  AuthToken?: string;
  columns: number;
  rows: number;
  capabilities?: string[];
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

export type ClientMessage =
  | { type: 'init'; init: InitMessage }
  | { type: 'input'; data: Uint8Array }
  | { type: 'resize'; size: TerminalSize }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Well-formed command byte whose payload could not be used (bad JSON, size out of range). */
  | { type: 'invalid'; command: number; reason: string }
  | { type: 'unknown'; command: number };

export function encodeInit(init: InitMessage): Bytes {
  return utf8(JSON.stringify(init));
}

export function encodeInput(data: string | Uint8Array): Bytes {
  return withCommand(ClientCommand.INPUT, data);
}

export function encodeResize(size: TerminalSize): Bytes {
  return withCommand(ClientCommand.RESIZE_TERMINAL, JSON.stringify({ columns: size.columns, rows: size.rows }));
}

export function encodePause(): Bytes {
  return Uint8Array.of(ClientCommand.PAUSE);
}

export function encodeResume(): Bytes {
  return Uint8Array.of(ClientCommand.RESUME);
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function dimension(value: unknown, max: number): number | undefined | 'invalid' {
  if (value === undefined || value === null || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) return 'invalid';
  return value;
}

/** Like ttyd: a missing or zero dimension falls back to 80×24; out-of-range values are refused. */
function parseSize(obj: Record<string, unknown>, fallback: boolean): TerminalSize | string {
  const columns = dimension(obj.columns, MAX_COLUMNS);
  const rows = dimension(obj.rows, MAX_ROWS);
  if (columns === 'invalid') return `columns must be an integer between 1 and ${MAX_COLUMNS}`;
  if (rows === 'invalid') return `rows must be an integer between 1 and ${MAX_ROWS}`;
  if (!fallback && (columns === undefined || rows === undefined)) return 'columns and rows are required';
  return { columns: columns ?? DEFAULT_COLUMNS, rows: rows ?? DEFAULT_ROWS };
}

export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  if (bytes.length === 0) return { type: 'invalid', command: -1, reason: 'empty message' };
  const command = bytes[0]!;
  switch (command) {
    case ClientCommand.JSON_DATA: {
      const obj = parseJsonObject(fromUtf8(bytes));
      if (!obj) return { type: 'invalid', command, reason: 'init message is not a JSON object' };
      const size = parseSize(obj, true);
      if (typeof size === 'string') return { type: 'invalid', command, reason: size };
      const init: InitMessage = { ...size };
      if (typeof obj.AuthToken === 'string') init.AuthToken = obj.AuthToken;
      if (Array.isArray(obj.capabilities)) {
        init.capabilities = obj.capabilities.filter((c): c is string => typeof c === 'string').slice(0, 32);
      }
      return { type: 'init', init };
    }
    case ClientCommand.INPUT:
      return { type: 'input', data: bytes.subarray(1) };
    case ClientCommand.RESIZE_TERMINAL: {
      const obj = parseJsonObject(fromUtf8(bytes.subarray(1)));
      if (!obj) return { type: 'invalid', command, reason: 'resize payload is not a JSON object' };
      const size = parseSize(obj, false);
      return typeof size === 'string' ? { type: 'invalid', command, reason: size } : { type: 'resize', size };
    }
    case ClientCommand.PAUSE:
      return { type: 'pause' };
    case ClientCommand.RESUME:
      return { type: 'resume' };
    default:
      return { type: 'unknown', command };
  }
}
