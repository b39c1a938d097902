import { ClientCommand, DEFAULT_COLUMNS, DEFAULT_ROWS, MAX_COLUMNS, MAX_ROWS, encodeResize, type InitMessage } from '@cliscale/protocol';

/**
 * The client's first message, checked before anything is opened to the runner. ttyd's init is a JSON
 * object whose first byte is `{`; anything else first (input, a resize, junk) is refused. Sizes are clamped
 * to the protocol's limits, not refused: a very wide window still gets a terminal. The AuthToken is not
 * kept (the runner's credential replaces it).
 */
export function parseInit(data: Buffer): InitMessage | undefined {
  if (data[0] !== ClientCommand.JSON_DATA) return undefined;
  const obj = jsonObject(data.toString('utf8'));
  if (!obj) return undefined;
  const init: InitMessage = { columns: clamp(obj.columns, MAX_COLUMNS, DEFAULT_COLUMNS), rows: clamp(obj.rows, MAX_ROWS, DEFAULT_ROWS) };
  if (Array.isArray(obj.capabilities)) {
    init.capabilities = obj.capabilities.filter((c): c is string => typeof c === 'string' && c.length <= 64).slice(0, 32);
  }
  return init;
}

/**
 * A resize from the client with its size clamped to the protocol's limits (what a window larger than the
 * limits sends); other messages unchanged. A resize that is not one (no numbers) is dropped.
 */
export function clampResize(data: Buffer): Uint8Array | undefined {
  if (data[0] !== ClientCommand.RESIZE_TERMINAL) return data;
  const obj = jsonObject(data.subarray(1).toString('utf8'));
  if (!obj || typeof obj.columns !== 'number' || typeof obj.rows !== 'number') return undefined;
  return encodeResize({ columns: clamp(obj.columns, MAX_COLUMNS, DEFAULT_COLUMNS), rows: clamp(obj.rows, MAX_ROWS, DEFAULT_ROWS) });
}

/** A positive number, truncated and at most `max`; anything else (missing, 0, negative, not a number): `fallback`. */
function clamp(value: unknown, max: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) return fallback;
  return Math.min(max, Math.trunc(value));
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
