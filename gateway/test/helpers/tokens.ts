import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { signToken as signAsController, type TokenClaims } from '@cliscale/test-kit/jwks-server';
import { SIGNING_KEY_PEM } from '@cliscale/test-kit/signing-key';

/**
 * Tokens the gateway must refuse. Well-formed ones are signed by test-kit's signToken (jwks-server.ts), with
 * the key its JWKS server publishes, exactly as the controller signs them.
 */
const controllerKey = createPrivateKey(SIGNING_KEY_PEM);
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

export type Claims = TokenClaims;

/** A token signed like the controller's (same key, same kid) or by a stranger's key, with any claims. */
export async function signToken(claims: Claims, options: { stranger?: boolean } = {}): Promise<string> {
  return signAsController(claims, options.stranger ? strangerKey : controllerKey);
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
