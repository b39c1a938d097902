import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { PhaseError } from './phase-error.js';
import { isInside, type SafeTreeWriter } from './safe-tree-writer.js';

export interface WalkEntry {
  /** Path relative to the walked root, with `/` separators. */
  name: string;
  path: string;
  kind: 'directory' | 'file' | 'symlink' | 'other';
  mode: number;
}

/** Depth-first walk that never follows symlinks. `skip` names (e.g. `.git`) are not entered. */
export async function* walkTree(root: string, skip: ReadonlySet<string> = new Set()): AsyncGenerator<WalkEntry> {
  const pending = [''];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const names = (await readdir(join(root, dir))).sort();
    for (const n of names) {
      if (skip.has(n)) continue;
      const name = dir ? `${dir}/${n}` : n;
      const path = join(root, name);
      const st = await lstat(path);
      const kind = st.isDirectory() ? 'directory' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      yield { name, path, kind, mode: st.mode };
      if (kind === 'directory') pending.push(name);
    }
  }
}

/** Copies a folder through the writer, so a local folder or a git checkout meets the same rules as an archive. */
export async function copyTree(source: string, writer: SafeTreeWriter, skip: ReadonlySet<string>): Promise<void> {
  for await (const e of walkTree(source, skip)) {
    if (e.kind === 'directory') await writer.directory(e.name);
    else if (e.kind === 'file') await writer.file(e.name, createReadStream(e.path), e.mode);
    else if (e.kind === 'symlink') await writer.symlink(e.name, await readlink(e.path));
    else writer.skip();
  }
}

/**
 * Every symlink below `root` must stay below it. Checked again on the folder that becomes the code directory:
 * a link that was inside the archive (`top/a -> ../top/b`) can point outside once `top/` is unwrapped.
 */
export async function assertSymlinksInside(root: string, phase: 'extracting' | 'fetching'): Promise<void> {
  const realRoot = await realpath(root);
  for await (const e of walkTree(root)) {
    if (e.kind !== 'symlink') continue;
    const target = await readlink(e.path);
    // Where the link really leads (links through links); a dangling link is judged by its text.
    const real = await realpath(e.path).catch(() => undefined);
    if (target.startsWith('/') || !isInside(root, resolve(dirname(e.path), target)) || (real && !isInside(realRoot, real))) {
      throw new PhaseError(phase, `symlink "${relative(root, e.path)}" points outside the code directory (${target})`);
    }
  }
}
