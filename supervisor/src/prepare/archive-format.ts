import { open } from 'node:fs/promises';
import type { ArchiveFormat } from './code-source.js';
import { PhaseError } from './phase-error.js';

const CONTENT_TYPES: Record<string, ArchiveFormat> = {
  'application/zip': 'zip',
  'application/x-zip-compressed': 'zip',
  'application/gzip': 'tar.gz',
  'application/x-gzip': 'tar.gz',
  'application/x-tar': 'tar',
  'application/x-gtar': 'tar.gz',
};

async function sniff(file: string): Promise<ArchiveFormat | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return 'zip';
    if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await handle.close();
  }
}

function describe(file: Buffer): string {
  const text = file.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return text.slice(0, 32);
}

/**
 * The archive's format, from its first bytes. The URL's extension, else the Content-Type, says what to
 * expect; when the bytes disagree (an HTML error page saved as .zip) the fetch fails with what was received.
 */
export async function archiveFormat(file: string, expected: ArchiveFormat | undefined, contentType: string | undefined): Promise<ArchiveFormat> {
  const actual = await sniff(file);
  const hinted = expected ?? (contentType ? CONTENT_TYPES[contentType] : undefined);
  const compatible = (a: ArchiveFormat, b: ArchiveFormat) => a === b || (a.startsWith('tar') && b.startsWith('tar'));
  if (actual && (!hinted || compatible(actual, hinted))) return actual;
  const handle = await open(file, 'r');
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(32), 0, 32, 0).finally(() => handle.close());
  const got = `${contentType ?? 'no content type'}, starting with "${describe(buffer.subarray(0, bytesRead))}"`;
  throw new PhaseError('fetching', `expected ${hinted ? `a ${hinted} archive` : 'a .zip, .tar.gz or .tar archive'} but got ${got}`);
}
