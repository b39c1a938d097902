import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CodeConfig } from '../config-code.js';
import { archiveFormat } from './archive-format.js';
import { parseCodeSource, type ArchiveFormat, type CodeSource } from './code-source.js';
import { extractTar } from './extract-tar.js';
import { extractZip } from './extract-zip.js';
import { fetchGit } from './git-fetch.js';
import { download } from './http-download.js';
import { PhaseError, type Phase } from './phase-error.js';
import { ProgressLine } from './progress-line.js';
import { formatBytes, SafeTreeWriter, unwrapSingleDirectory } from './safe-tree-writer.js';
import { infoLine, phaseLine } from './terminal-lines.js';
import { assertSymlinksInside, copyTree } from './tree-walk.js';

export interface PrepareContext {
  code: CodeConfig & { url: string; dir: string };
  /** Resolves relative local paths. */
  cwd: string;
  print: (text: string) => void;
  setPhase: (phase: Phase) => void;
  log: Logger;
  signal: AbortSignal;
}

/** Local folders are copied without these: a session installs its own dependencies. */
const LOCAL_SKIP = new Set(['.git', 'node_modules']);

function checkOptionsFit(source: CodeSource, code: CodeConfig): void {
  if (code.checksumSha256 && (source.kind === 'git' || source.kind === 'github-tree')) {
    throw new PhaseError('fetching', 'a SHA-256 checksum applies to archives; pin a git repository with --commit (CODE_COMMIT)');
  }
  if (code.commit && (source.kind === 'archive' || source.kind === 'local')) {
    throw new PhaseError('fetching', '--commit (CODE_COMMIT) applies to git repositories; pin an archive with --checksum');
  }
}

/**
 * Fetches, verifies and unpacks the session's code into an empty code directory, printing each step to the
 * terminal. Returns the code directory. All scratch files live in a folder inside the code directory (the
 * one place known to be writable in a pod), which is removed before the command starts.
 */
export async function prepareCode(ctx: PrepareContext): Promise<string> {
  const { code, print } = ctx;
  ctx.setPhase('fetching');
  const source = parseCodeSource(code.url, code, ctx.cwd);
  checkOptionsFit(source, code);
  const codeDir = code.dir;
  await mkdir(codeDir, { recursive: true });
  const work = await mkdtemp(join(codeDir, '.cliscale-fetch-'));
  const tree = join(work, 'tree');
  await mkdir(tree);
  ctx.log.info({ source: source.display, kind: source.kind, codeDir }, 'fetching code');
  print(phaseLine('fetching', source.display));
  try {
    let root = tree;
    const limits = { maxFiles: code.maxFiles, maxBytes: code.maxExtractedBytes };
    if (source.kind === 'git' || source.kind === 'github-tree') {
      const writer = new SafeTreeWriter(tree, limits, 'fetching');
      const stage = join(work, 'git');
      await mkdir(stage);
      const result = await fetchGit(
        {
          remote: source.remote,
          display: source.display,
          ref: source.kind === 'git' ? source.ref : undefined,
          treeSegments: source.kind === 'github-tree' ? source.segments : undefined,
          pin: code.commit,
        },
        stage,
        writer,
        code,
        new ProgressLine(print),
        ctx.signal,
      );
      print(infoLine(`${result.folder ? `folder ${result.folder}: ` : ''}${writer.files} files, ${formatBytes(writer.bytes)}`));
      if (code.commit) {
        ctx.setPhase('verifying');
        print(phaseLine('verifying', `commit ${code.commit}`));
        if (result.commit !== code.commit) throw new PhaseError('verifying', `the fetched commit is ${result.commit}, not the pinned ${code.commit}`);
        print(infoLine('commit matches'));
      }
    } else if (source.kind === 'local' && (await stat(source.path).catch(() => undefined))?.isDirectory()) {
      const writer = new SafeTreeWriter(tree, limits, 'fetching');
      await copyTree(source.path, writer, LOCAL_SKIP);
      print(infoLine(`copied ${writer.files} files, ${formatBytes(writer.bytes)} (without .git and node_modules)`));
    } else {
      root = await fetchArchive(ctx, source, work, tree);
    }
    await moveInto(root, codeDir);
    return codeDir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function fetchArchive(ctx: PrepareContext, source: CodeSource, work: string, tree: string): Promise<string> {
  const { code, print } = ctx;
  let file: string;
  let expected: ArchiveFormat | undefined;
  let contentType: string | undefined;
  let sha256: string | undefined;
  if (source.kind === 'archive') {
    const progress = new ProgressLine(print);
    const result = await download(source.url, join(work, 'archive'), code, {
      signal: ctx.signal,
      onProgress: (bytes, total) => progress.update(bytes, total),
    }).catch((err) => {
      progress.abandon();
      throw err;
    });
    progress.done(`downloaded ${formatBytes(result.bytes)} in ${(progress.elapsedMs / 1000).toFixed(1)} s (${progress.rate(result.bytes)})`);
    ({ file, contentType, sha256 } = result);
    expected = source.format;
  } else if (source.kind === 'local') {
    const st = await stat(source.path).catch(() => undefined);
    if (!st?.isFile()) throw new PhaseError('fetching', `${source.path} does not exist`);
    if (st.size > code.maxDownloadBytes) throw new PhaseError('fetching', `${source.path} is larger than ${formatBytes(code.maxDownloadBytes)} (limit --max-download-bytes)`);
    file = source.path;
  } else {
    throw new Error(`unexpected source ${source.kind}`);
  }

  if (code.checksumSha256) {
    ctx.setPhase('verifying');
    print(phaseLine('verifying', 'sha256'));
    sha256 ??= await hashFile(file);
    if (sha256 !== code.checksumSha256) {
      throw new PhaseError('verifying', `sha256 mismatch: expected ${code.checksumSha256}, got ${sha256}; the code was not used`);
    }
    print(infoLine(`sha256 ${sha256} matches`));
  } else if (sha256) {
    print(infoLine(`sha256 ${sha256} (pin it with --checksum)`));
  }

  const format = await archiveFormat(file, expected, contentType);
  ctx.setPhase('extracting');
  print(phaseLine('extracting', format));
  const writer = new SafeTreeWriter(tree, { maxFiles: code.maxFiles, maxBytes: code.maxExtractedBytes }, 'extracting');
  await (format === 'zip' ? extractZip(file, writer) : extractTar(file, writer));
  const root = await unwrapSingleDirectory(tree, await readdir(tree));
  await assertSymlinksInside(root, 'extracting');
  const skipped = writer.skipped ? `, ${writer.skipped} special files skipped` : '';
  print(infoLine(`${writer.files} entries, ${formatBytes(writer.bytes)}${root !== tree ? ', top folder unwrapped' : ''}${skipped}`));
  return root;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Moves the folder's entries (dotfiles included) into the code directory: renames on one filesystem. */
async function moveInto(from: string, codeDir: string): Promise<void> {
  for (const name of await readdir(from)) {
    await rename(join(from, name), join(codeDir, name));
  }
}
