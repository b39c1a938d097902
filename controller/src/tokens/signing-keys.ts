import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';

export interface SigningKey {
  /** RFC 7638 thumbprint of the public key: stable, derived, never configured by hand. */
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export interface SigningKeys {
  /** The key that signs new tokens (the newest). */
  current: SigningKey;
  /** Every key's public half, newest first: what `/.well-known/jwks.json` publishes. */
  all: SigningKey[];
}

export interface SigningKeySources {
  /** One PEM private key (PKCS#8 or PKCS#1), e.g. from a Secret in the environment. */
  privateKeyPem?: string;
  /**
   * A folder of `*.pem` private keys (a mounted Secret). All are published; the last in name order signs,
   * so name them by date (`2026-11-01.pem`) and add the new one before removing the old.
   */
  keysDir?: string;
  /** When neither is given (local mode): a key is generated here once and reused. */
  generateInDir?: string;
}

const MIN_RSA_BITS = 2048;

async function toSigningKey(pem: string, origin: string): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${origin} is not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (privateKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    throw new Error(`${origin} must be an RSA key of at least ${MIN_RSA_BITS} bits (RS256), got ${privateKey.asymmetricKeyType} ${bits || ''}`.trim());
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

async function pemFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.pem')).sort();
  return names.map((n) => join(dir, n));
}

/** Loads the signing keys, generating the local one on first start. Throws with a message naming the source. */
export async function loadSigningKeys(sources: SigningKeySources): Promise<SigningKeys> {
  const keys: SigningKey[] = [];
  if (sources.keysDir) {
    const files = await pemFiles(sources.keysDir).catch((err: Error) => {
      throw new Error(`JWT_KEYS_DIR ${sources.keysDir}: ${err.message}`);
    });
    for (const file of files) keys.push(await toSigningKey(await readFile(file, 'utf8'), file));
    if (keys.length === 0) throw new Error(`JWT_KEYS_DIR ${sources.keysDir} holds no *.pem key`);
  }
  if (sources.privateKeyPem) keys.push(await toSigningKey(sources.privateKeyPem, 'JWT_PRIVATE_KEY'));
  if (keys.length === 0 && sources.generateInDir) {
    const dir = join(sources.generateInDir, 'jwt-keys');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let files = await pemFiles(dir);
    if (files.length === 0) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: MIN_RSA_BITS });
      const file = join(dir, `${new Date().toISOString().slice(0, 10)}.pem`);
      await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      files = [file];
    }
    for (const file of files) keys.push(await toSigningKey(await readFile(file, 'utf8'), file));
  }
  if (keys.length === 0) throw new Error('no JWT signing key: set JWT_PRIVATE_KEY or JWT_KEYS_DIR');
  const newestFirst = keys.reverse();
  return { current: newestFirst[0]!, all: newestFirst };
}

export function jwks(keys: SigningKeys): { keys: JWK[] } {
  return { keys: keys.all.map((k) => k.publicJwk) };
}
