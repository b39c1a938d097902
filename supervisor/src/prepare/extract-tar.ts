import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';
import { PhaseError } from './phase-error.js';
import type { SafeTreeWriter } from './safe-tree-writer.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function writeEntry(entry: ReadEntry, writer: SafeTreeWriter): Promise<void> {
  const name = entry.path;
  switch (entry.type) {
    case 'Directory':
      entry.resume();
      return writer.directory(name);
    case 'SymbolicLink':
      entry.resume();
      return writer.symlink(name, entry.linkpath ?? '');
    case 'Link':
      entry.resume();
      return writer.hardlink(name, entry.linkpath ?? '');
    default:
      if (FILE_TYPES.has(entry.type)) return writer.file(name, entry as unknown as NodeJS.ReadableStream as never, entry.mode ?? 0o644);
      // Devices, FIFOs and anything else: never created, only counted.
      entry.resume();
      writer.skip();
      return Promise.resolve();
  }
}

/**
 * Extracts a .tar or .tar.gz (gzip is detected by node-tar from the magic bytes) through the safe writer.
 * node-tar emits one entry at a time and waits for it to be consumed, so a large entry streams to disk.
 */
export function extractTar(file: string, writer: SafeTreeWriter): Promise<void> {
  return new Promise((resolve, reject) => {
    const source = createReadStream(file);
    const parser = new Parser({ strict: true });
    let failure: Error | undefined;
    let chain = Promise.resolve();
    const fail = (err: unknown) => {
      if (failure) return;
      failure = err instanceof PhaseError ? err : new PhaseError('extracting', `not a valid tar archive: ${(err as Error).message}`);
      source.destroy();
      reject(failure);
    };
    parser.on('entry', (entry: ReadEntry) => {
      if (failure) return entry.resume();
      const written = writeEntry(entry, writer).catch((err) => {
        entry.resume();
        fail(err instanceof PhaseError ? err : new PhaseError('extracting', `cannot extract "${entry.path}": ${(err as Error).message}`));
      });
      chain = chain.then(() => written);
    });
    parser.on('error', fail);
    source.on('error', fail);
    parser.on('end', () => void chain.then(() => (failure ? undefined : resolve())));
    source.pipe(parser);
  });
}
