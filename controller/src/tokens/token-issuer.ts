import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AccessMode } from '@cliscale/database';
import type { SigningKeys } from './signing-keys.js';

export interface IssuedToken {
  token: string;
  jti: string;
  mode: AccessMode;
  expiresAt: Date;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/**
 * Mints the one-time terminal tokens the gateway accepts: RS256 only, with `iss`, `aud`, `sub` (the API
 * key's name), `sid`, `jti`, `mode`, `iat`, `nbf`, `exp`. Storing the `jti` is the caller's job, in the
 * same transaction as whatever the token is for.
 */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
  ) {}

  async issue(claims: { sessionId: string; subject: string; mode: AccessMode }): Promise<IssuedToken> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.settings.ttlSeconds;
    const jti = randomBytes(16).toString('base64url');
    const key = this.keys.current;
    const token = await new SignJWT({ sid: claims.sessionId, mode: claims.mode })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(claims.subject)
      .setJti(jti)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, jti, mode: claims.mode, expiresAt: new Date(exp * 1000) };
  }
}
