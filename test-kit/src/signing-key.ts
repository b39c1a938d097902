import { generateKeyPairSync } from 'node:crypto';

/** One RSA key per test run (generating one costs ~100 ms): what the controller signs terminal tokens with in tests. */
export const SIGNING_KEY_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
