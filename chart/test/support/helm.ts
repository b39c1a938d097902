import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { helmBinary } from './helm-binary.js';

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs helm offline: its cache/config/data homes are the cache folder (never ~/.config/helm), and
 * KUBECONFIG names a file that does not exist unless the caller passes one (lookups then talk to that
 * fake API server on 127.0.0.1, nothing else).
 */
export async function runHelm(args: string[], options: { kubeconfig?: string } = {}): Promise<HelmResult> {
  const binary = await helmBinary();
  const home = path.join(path.dirname(binary), 'home');
  await mkdir(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
    KUBECONFIG: options.kubeconfig ?? path.join(home, 'no-cluster'),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}
