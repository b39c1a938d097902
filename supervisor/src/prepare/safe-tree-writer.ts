import { createWriteStream, constants as fsConstants } from 'node:fs';
import { link, lstat, mkdir, open, realpath, rm, symlink } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PhaseError } from './phase-error.js';

export interface TreeLimits {
  maxFiles: number;
  maxBytes: number;
}

const MiB = 1 << 20;
export const formatBytes = (n: number): string =>
  n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

/** True when `path` is `root` or below it. Both must be absolute and normalized. */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Writes untrusted entries (from an archive, a git checkout or a local folder) below one root, refusing
 * anything that would land outside it: absolute names, `..`, symlinks or hard links pointing out, writes
 * through symlinks. Counts files and bytes as they are written (declared sizes are not trusted), so a zip bomb
 * stops at the limit. Device files and FIFOs are skipped.
 */
export class SafeTreeWriter {
  files = 0;
  bytes = 0;
  skipped = 0;
  private realRoot?: string;
  /** Parent folders already created and checked to resolve inside the root: one check per folder, not per file. */
  private readonly checkedDirs = new Set<string>();
  /** Operations run one at a time, in entry order: checks of one entry must not race another's writes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    private readonly limits: TreeLimits,
    private readonly phase: 'extracting' | 'fetching' = 'extracting',
  ) {}

  private refuse(message: string): never {
    throw new PhaseError(this.phase, message);
  }

  /** The entry's relative, normalized name; undefined for the root itself ("./"). */
  normalize(name: string): string | undefined {
    if (name.includes('\0')) this.refuse(`entry "${JSON.stringify(name)}" contains a NUL byte`);
    if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) this.refuse(`entry "${name}" has an absolute path`);
    const segments = name.split('/');
    if (segments.includes('..')) this.refuse(`entry "${name}" leaves the code directory ("..")`);
    const normal = posix.normalize(name).replace(/\/+$/, '');
    return normal === '.' || normal === '' ? undefined : normal;
  }

  private async target(name: string): Promise<string | undefined> {
    const rel = this.normalize(name);
    if (rel === undefined) return undefined;
    if (++this.files > this.limits.maxFiles) this.refuse(`more than ${this.limits.maxFiles} files (limit --max-files)`);
    const dest = resolve(this.root, rel);
    if (!isInside(this.root, dest)) this.refuse(`entry "${name}" leaves the code directory`);
    const parent = dirname(dest);
    if (!this.checkedDirs.has(parent)) {
      await mkdir(parent, { recursive: true });
      // A directory on the way may be a symlink written by an earlier entry: writes must not follow it out.
      this.realRoot ??= await realpath(this.root);
      if (!isInside(this.realRoot, await realpath(parent))) this.refuse(`entry "${name}" would be written through a symlink`);
      // Safe to remember: a real directory is never replaced (clear() refuses), so it cannot become a link.
      if ((await lstat(parent)).isDirectory()) this.checkedDirs.add(parent);
    }
    return dest;
  }

  /** Removes what is at `dest` (a repeated entry: the later one wins), except a directory. */
  private async clear(dest: string): Promise<void> {
    const st = await lstat(dest).catch(() => undefined);
    if (st && !st.isDirectory()) await rm(dest);
    else if (st) this.refuse(`entry "${dest.slice(this.root.length + 1)}" replaces a directory`);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  directory(name: string): Promise<void> {
    return this.serial(() => this.writeDirectory(name));
  }

  file(name: string, content: Readable, mode = 0o644): Promise<void> {
    return this.serial(() => this.writeFile(name, content, mode));
  }

  symlink(name: string, linkTarget: string): Promise<void> {
    return this.serial(() => this.writeSymlink(name, linkTarget));
  }

  hardlink(name: string, linkTarget: string): Promise<void> {
    return this.serial(() => this.writeHardlink(name, linkTarget));
  }

  private async writeDirectory(name: string): Promise<void> {
    const dest = await this.target(name);
    if (!dest) return;
    const st = await lstat(dest).catch(() => undefined);
    if (st?.isDirectory()) return;
    if (st) await rm(dest);
    await mkdir(dest);
  }

  private async writeFile(name: string, content: Readable, mode: number): Promise<void> {
    const dest = await this.target(name);
    if (!dest) return void content.resume();
    await this.clear(dest);
    const limit = this.limits.maxBytes;
    const count = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.bytes += chunk.byteLength;
        if (this.bytes > limit) done(new PhaseError(this.phase, `the code is larger than ${formatBytes(limit)} unpacked (limit --max-extracted-bytes)`));
        else done(null, chunk);
      },
    });
    // O_NOFOLLOW: even a symlink created between clear() and open() is not followed.
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW;
    const handle = await open(dest, flags, mode & 0o111 ? 0o755 : 0o644);
    await pipeline(content, count, createWriteStream('', { fd: handle }));
  }

  private async writeSymlink(name: string, linkTarget: string): Promise<void> {
    const dest = await this.target(name);
    if (!dest) return;
    if (linkTarget.startsWith('/') || linkTarget.includes('\0')) this.refuse(`symlink "${name}" points to an absolute path (${linkTarget})`);
    if (!isInside(this.root, resolve(dirname(dest), linkTarget))) {
      this.refuse(`symlink "${name}" points outside the code directory (${linkTarget})`);
    }
    await this.clear(dest);
    await symlink(linkTarget, dest);
    // A new link can change where a remembered path really leads (links through links): check again.
    this.checkedDirs.clear();
  }

  private async writeHardlink(name: string, linkTarget: string): Promise<void> {
    const outside = (): never => this.refuse(`hard link "${name}" points outside the code directory (${linkTarget})`);
    let rel: string | undefined;
    try {
      rel = this.normalize(linkTarget);
    } catch {
      outside();
    }
    const source = rel === undefined ? undefined : resolve(this.root, rel);
    if (!source || !isInside(this.root, source)) outside();
    const st = await lstat(source!).catch(() => undefined);
    if (!st?.isFile()) this.refuse(`hard link "${name}" points to "${linkTarget}", which is not a file of this archive`);
    const dest = await this.target(name);
    if (!dest) return;
    await this.clear(dest);
    await link(source!, dest);
  }

  skip(): void {
    this.skipped++;
  }
}

/** The folder to use as the code: the single top-level directory of an archive, else the root itself. */
export async function unwrapSingleDirectory(root: string, entries: string[]): Promise<string> {
  const visible = entries.filter((e) => e !== '__MACOSX');
  if (visible.length !== 1) return root;
  const only = join(root, visible[0]!);
  const st = await lstat(only);
  return st.isDirectory() ? only : root;
}
