import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { MAX_COLUMNS, MAX_ROWS } from '@cliscale/protocol';

/**
 * The zod schemas of the supervisor's values, each reading the text of an environment variable (or of the
 * flag standing for it). A refused value gets one message meant for a person ("expected an integer between
 * 0 and 65535, got "abc""); config.ts names the variable or flag it came from.
 */

/** A schema from a parse function that throws a message meant for a person. */
function parsedBy<T>(parse: (raw: string) => T) {
  return z.string().transform((raw, ctx) => {
    try {
      return parse(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

export const integer = (min: number, max: number) =>
  parsedBy((raw) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new Error(`expected an integer between ${min} and ${max}, got "${raw}"`);
    }
    return value;
  });

export const terminalSize = parsedBy((raw) => {
  const match = /^(\d+)x(\d+)$/.exec(raw.trim());
  const columns = Number(match?.[1]);
  const rows = Number(match?.[2]);
  if (!match || columns < 1 || columns > MAX_COLUMNS || rows < 1 || rows > MAX_ROWS) {
    throw new Error(`expected COLUMNSxROWS within ${MAX_COLUMNS}x${MAX_ROWS}, got "${raw}"`);
  }
  return { columns, rows };
});

export const credential = parsedBy((raw) => {
  const colon = raw.indexOf(':');
  if (colon < 1 || colon === raw.length - 1) throw new Error('expected user:password');
  return raw;
});

export const hexDigest = (length: number, what: string) =>
  parsedBy((raw) => {
    const v = raw.trim().toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${length}}$`).test(v)) throw new Error(`expected ${what} (${length} hex digits)`);
    return v;
  });

/** Lower-case host names, `*.domain` for subdomains. */
export const hostList = parsedBy((raw) => {
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of hosts) {
    if (!/^(\*\.)?[a-z0-9.-]+(:\d+)?$/.test(h)) throw new Error(`"${h}" is not a host name`);
  }
  return hosts;
});

/** An http(s) URL without trailing slashes. */
export const baseUrl = parsedBy((raw) => {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
    return url.href.replace(/\/+$/, '');
  } catch {
    throw new Error(`expected an http(s) URL, got "${raw}"`);
  }
});

/** ttyd's `-t key=value` (a repeatable flag, no variable): the value is JSON when it parses as JSON, otherwise a string. */
export function clientOption(raw: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = raw.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError(`expected key=value, got "${raw}"`);
  const key = raw.slice(0, eq);
  const text = raw.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Plain strings are the common case (`-t titleFixed=build`).
  }
  return { ...previous, [key]: value };
}
