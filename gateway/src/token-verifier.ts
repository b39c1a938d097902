import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { AccessMode } from '@cliscale/database';
import { Refusal } from './refusals.js';

export interface TokenClaims {
  sessionId: string;
  jti: string;
  subject: string;
  mode: AccessMode;
}

/**
 * Verifies terminal tokens against the controller's JWKS: RS256 only, `iss`, `aud`, `exp`, `nbf` checked,
 * `sid` equal to the session in the path. The key set is fetched once and kept (so a briefly unreachable
 * controller does not stop new connections); a token signed with a key it does not know makes it fetch again.
 */
export class TokenVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    jwksUrl: string,
    private readonly expected: { issuer: string; audience: string },
  ) {
    this.keys = createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: Infinity, cooldownDuration: 5_000, timeoutDuration: 5_000 });
  }

  async verify(token: string, sessionId: string): Promise<TokenClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ['RS256'],
        issuer: this.expected.issuer,
        audience: this.expected.audience,
        requiredClaims: ['exp', 'nbf', 'jti', 'sid', 'sub'],
      }));
    } catch (err) {
      throw refusalFor(err);
    }
    const mode = payload.mode;
    if (typeof payload.sid !== 'string' || typeof payload.jti !== 'string' || (mode !== 'interact' && mode !== 'view')) {
      throw new Refusal(401, 'invalid-token', 'the token is not a terminal token');
    }
    if (payload.sid !== sessionId) throw new Refusal(403, 'wrong-session', 'the token is for another session');
    return { sessionId: payload.sid, jti: payload.jti, subject: payload.sub!, mode };
  }
}

function refusalFor(err: unknown): Refusal {
  if (err instanceof errors.JWTExpired) return new Refusal(401, 'expired-token', 'the token has expired: ask for a new terminal URL');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new Refusal(401, 'token-not-yet-valid', 'the token is not valid yet');
    if (err.claim === 'aud') return new Refusal(401, 'wrong-audience', 'the token is meant for another audience');
    if (err.claim === 'iss') return new Refusal(401, 'wrong-issuer', 'the token comes from another issuer');
    return new Refusal(401, 'invalid-token', `the token is missing a claim (${err.claim})`);
  }
  if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) {
    return new Refusal(503, 'keys-unavailable', 'the signing keys cannot be fetched right now; try again shortly');
  }
  // alg none or HS256, a bad signature, an unknown key, a malformed token.
  return new Refusal(401, 'invalid-token', 'the token is not valid');
}
