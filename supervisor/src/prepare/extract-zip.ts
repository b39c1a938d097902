import { Readable } from 'node:stream';
import unzipper from 'unzipper';
import { PhaseError } from './phase-error.js';
import type { SafeTreeWriter } from './safe-tree-writer.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** A symlink's target is its content; anything longer is not a path. */
const MAX_LINK_BYTES = 4096;

async function readSmall(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_LINK_BYTES) throw new PhaseError('extracting', 'a symlink entry is longer than 4096 bytes');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Extracts a zip from its central directory (the authoritative list; local headers can lie), streaming each
 * entry's inflated bytes through the safe writer, which counts what is really written.
 */
export async function extractZip(file: string, writer: SafeTreeWriter): Promise<void> {
  let directory: unzipper.CentralDirectory;
  try {
    directory = await unzipper.Open.file(file);
  } catch (err) {
    throw new PhaseError('extracting', `not a valid zip archive: ${(err as Error).message}`);
  }
  for (const entry of directory.files) {
    // Zips made on Windows may use backslashes; in a zip they are never part of a name.
    const name = entry.path.replace(/\\/g, '/');
    if (name === '__MACOSX' || name.startsWith('__MACOSX/')) continue;
    const unixType = (entry.externalFileAttributes >>> 16) & S_IFMT;
    const mode = (entry.externalFileAttributes >>> 16) & 0o777;
    try {
      if (entry.type === 'Directory' || unixType === S_IFDIR) await writer.directory(name);
      else if (unixType === S_IFLNK) await writer.symlink(name, await readSmall(entry.stream()));
      else if (unixType === 0 || unixType === S_IFREG) await writer.file(name, entry.stream(), mode);
      else writer.skip();
    } catch (err) {
      if (err instanceof PhaseError) throw err;
      throw new PhaseError('extracting', `cannot extract "${name}": ${(err as Error).message}`);
    }
  }
}
