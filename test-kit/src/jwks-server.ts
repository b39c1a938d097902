import { createHash, createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNING_KEY_PEM } from './signing-key.js';

/**
 * The controller's half of the terminal-token contract, for tests of the gateway without a controller:
 * a JWKS endpoint publishing a public key, and tokens signed with its private key and the claims the
 * controller puts in them.
 *
 * Built on node:crypto alone (RS256 is RSASSA-PKCS1-v1_5 with SHA-256; the kid is the RFC 7638 thumbprint),
 * so the gateway's verifier (jose) is checked against a signer that is not the same library.
 */

/** `iss` and `aud` of every terminal token (the controller's defaults; the gateway checks both). */
export const TOKEN_ISSUER = 'cliscale';
export const TOKEN_AUDIENCE = 'cliscale-gateway';

/** The claims of a terminal token. Only `sid` and `jti` are required; the rest default as the controller sets them. */
export interface TokenClaims {
  sid: string;
  jti: string;
  /** 'interact' (default) or 'view'; anything else to test refusals. */
  mode?: string;
  /** The API key's name: 'alice' by default. */
  sub?: string;
  iss?: string;
  aud?: string;
  /** `exp` in seconds from now (default 300; negative: already expired). */
  exp?: number;
  /** `nbf` in seconds from now (default 0; positive: not valid yet). */
  nbf?: number;
}

export type PublicJwk = JsonWebKey & { kty: string; kid: string; alg: 'RS256'; use: 'sig' };

function privateKeyOf(key: KeyObject | string): KeyObject {
  return typeof key === 'string' ? createPrivateKey(key) : key;
}

/** The RFC 7638 SHA-256 thumbprint of an RSA key's public half (base64url): the controller's `kid`. */
export function keyId(key: KeyObject | string = SIGNING_KEY_PEM): string {
  const jwk = createPublicKey(privateKeyOf(key)).export({ format: 'jwk' });
  // Required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The public JWK the controller publishes for `key`: kid, alg RS256, use sig. */
export function publicJwk(key: KeyObject | string = SIGNING_KEY_PEM): PublicJwk {
  const jwk = createPublicKey(privateKeyOf(key)).export({ format: 'jwk' });
  return { ...jwk, kty: jwk.kty!, kid: keyId(key), alg: 'RS256', use: 'sig' };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A terminal token as the controller signs it: RS256, header kid = the key's thumbprint, claims `sid`, `mode`,
 * `iss`, `aud`, `sub`, `jti`, `iat`, `nbf`, `exp`. `key` defaults to SIGNING_KEY_PEM (what startJwksServer
 * publishes); another key makes a forgery. It does not store the jti: see SessionFixture.issueToken.
 */
export function signToken(claims: TokenClaims, key: KeyObject | string = SIGNING_KEY_PEM): string {
  const privateKey = privateKeyOf(key);
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: keyId(privateKey) };
  const payload = {
    sid: claims.sid,
    mode: claims.mode ?? 'interact',
    iss: claims.iss ?? TOKEN_ISSUER,
    aud: claims.aud ?? TOKEN_AUDIENCE,
    sub: claims.sub ?? 'alice',
    jti: claims.jti,
    iat: now,
    nbf: now + (claims.nbf ?? 0),
    exp: now + (claims.exp ?? 300),
  };
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
}

export interface JwksServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `<url>/.well-known/jwks.json`: the gateway's JWKS_URL. */
  jwksUrl: string;
  /** How many times the key set was fetched. */
  fetches(): number;
  /** Stops answering (a controller that is down); connections included. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Serves `/.well-known/jwks.json` on 127.0.0.1 as the controller does: the public JWKs of `keys` (default:
 * test-kit's SIGNING_KEY_PEM), newest first. Every other path is a 404.
 */
export async function startJwksServer(options: { keys?: Array<KeyObject | string> } = {}): Promise<JwksServer> {
  const body = JSON.stringify({ keys: (options.keys ?? [SIGNING_KEY_PEM]).map((k) => publicJwk(k)) });
  let fetches = 0;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    fetches: () => fetches,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
