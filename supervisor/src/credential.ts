import { createHash, timingSafeEqual } from 'node:crypto';

/** ttyd's credential: `base64("user:pass")` serves as Basic auth value, `/token` value and AuthToken. */
export function credentialToken(credential: string): string {
  return Buffer.from(credential, 'utf8').toString('base64');
}

/** Constant-time comparison of a presented token with the configured credential (hashes equalise lengths). */
export function credentialMatches(presented: string, credential: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(credentialToken(credential), 'utf8').digest();
  return timingSafeEqual(a, b);
}

