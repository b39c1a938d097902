import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import { SIGNING_KEY_PEM } from '@cliscale/test-kit/signing-key';

const controllerKey = createPrivateKey(SIGNING_KEY_PEM);
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

export interface Claims {
  sid: string;
  jti: string;
  mode?: string;
  sub?: string;
  iss?: string;
  aud?: string;
  /** Seconds from now. */
  exp?: number;
  nbf?: number;
}

/** A token signed like the controller's (same key, same kid) or by a stranger's key, with any claims. */
export async function signToken(claims: Claims, options: { stranger?: boolean } = {}): Promise<string> {
  const key = options.stranger ? strangerKey : controllerKey;
  const kid = await calculateJwkThumbprint(createPublicKey(key).export({ format: 'jwk' }) as JWK, 'sha256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, mode: claims.mode ?? 'interact' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .setIssuer(claims.iss ?? 'cliscale')
    .setAudience(claims.aud ?? 'cliscale-gateway')
    .setSubject(claims.sub ?? 'alice')
    .setJti(claims.jti)
    .setIssuedAt(now)
    .setNotBefore(now + (claims.nbf ?? 0))
    .setExpirationTime(now + (claims.exp ?? 300))
    .sign(key);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** `alg: none`: no signature at all. */
export function unsignedToken(claims: Claims): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sid: claims.sid, jti: claims.jti, mode: 'interact', iss: 'cliscale', aud: 'cliscale-gateway', sub: 'alice', iat: now, nbf: now, exp: now + 300 })}.`;
}

/** HS256 keyed with the controller's PUBLIC key (the classic algorithm-confusion attack). */
export async function hs256WithPublicKey(claims: Claims): Promise<string> {
  const secret = new Uint8Array(Buffer.from(createPublicKey(controllerKey).export({ type: 'spki', format: 'pem' }) as string));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, mode: 'interact' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('cliscale')
    .setAudience('cliscale-gateway')
    .setSubject('alice')
    .setJti(claims.jti)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .sign(secret);
}
