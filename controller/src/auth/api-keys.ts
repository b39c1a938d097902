import { createHash, timingSafeEqual } from 'node:crypto';

/** A named API key. Several keys may share a name: that is how a key is rotated without downtime. */
export interface ApiKey {
  name: string;
  /** SHA-256 of the key: the key itself is not kept in memory longer than parsing takes. */
  digest: Buffer;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MIN_KEY_LENGTH = 16;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Parses `name:key` pairs separated by commas or newlines (`ci:3f9a...,alice:77c2...`). Errors name the
 * offending entry by position and name, never by its key.
 */
export function parseApiKeys(raw: string): ApiKey[] {
  const entries = raw.split(/[,\n]/).map((e) => e.trim()).filter(Boolean);
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    const key = colon > 0 ? entry.slice(colon + 1) : '';
    if (!NAME.test(name)) throw new Error(`entry ${index + 1} must look like name:key with a name of letters, digits, . _ -`);
    if (key.length < MIN_KEY_LENGTH) throw new Error(`the key named "${name}" is shorter than ${MIN_KEY_LENGTH} characters`);
    return { name, digest: sha256(key) };
  });
}

export function apiKey(name: string, key: string): ApiKey {
  return { name, digest: sha256(key) };
}

/**
 * The name of the key that matches, or undefined. Compares digests in constant time and always checks
 * every configured key, so the time taken says nothing about which key (or how much of one) matched.
 */
export function matchApiKey(keys: readonly ApiKey[], presented: string): string | undefined {
  const digest = sha256(presented);
  let match: string | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && match === undefined) match = key.name;
  }
  return match;
}

