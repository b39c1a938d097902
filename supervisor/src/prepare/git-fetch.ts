import { lstat, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { CodeConfig } from '../config-code.js';
import { splitTreeSegments, parseLsRemote, resolveRef, type ResolvedRef } from './git-refs.js';
import { PhaseError, PreparationCancelled } from './phase-error.js';
import type { ProgressLine } from './progress-line.js';
import { formatBytes, type SafeTreeWriter } from './safe-tree-writer.js';
import { copyTree } from './tree-walk.js';

export interface GitFetchRequest {
  remote: string;
  /** Shown instead of the remote in messages (the remote may carry credentials). */
  display: string;
  /** A whole ref (`x.git#ref`), or undefined for the default branch. Ignored when `treeSegments` is set. */
  ref?: string;
  /** GitHub `/tree/` segments: ref and folder, split against the remote's refs. */
  treeSegments?: string[];
  /** A commit the code must be: fetched by id (the caller checks the result). */
  pin?: string;
}

export interface GitFetchResult {
  commit: string;
  refName: string;
  folder: string;
}

/** What git needs from the supervisor's environment: nothing else reaches it (no editors, pagers, hooks). */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH'];
/** simple-git refuses GIT_* variables it is not told about. */
const GIT_ENV = ['GIT_TERMINAL_PROMPT', 'GIT_ALLOW_PROTOCOL', 'GIT_CONFIG_NOSYSTEM', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH'];

function gitEnvironment(allowHttp: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0', // a private repository fails instead of waiting for a password nobody types
    GIT_ALLOW_PROTOCOL: allowHttp ? 'https:http' : 'https', // no ssh, file, ext:: transports
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

/** A gitignore-style pattern matching exactly one folder (sparse checkout patterns treat `*?[\!#` specially). */
function sparsePattern(folder: string): string {
  return `/${folder.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`)}/\n`;
}

async function packBytes(stage: string): Promise<number> {
  const dir = join(stage, '.git', 'objects', 'pack');
  const names = await readdir(dir).catch(() => [] as string[]);
  let total = 0;
  for (const n of names) total += (await stat(join(dir, n)).catch(() => ({ size: 0 }))).size;
  return total;
}

function gitFailure(err: unknown, request: GitFetchRequest, signal: AbortSignal): Error {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new PreparationCancelled('SIGTERM');
  if (err instanceof PhaseError) return err;
  const text = (err as Error).message.split(request.remote).join(request.display);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => /^(fatal|error):/.test(l));
  const reason = (lines.length ? lines.join('; ') : text.split('\n')[0] ?? 'unknown error').replace(/^(fatal|error): /, '');
  return new PhaseError('fetching', `git could not fetch ${request.display}: ${reason}`);
}

/**
 * A shallow (depth 1), partial (no blobs until checkout) and, for a folder, sparse fetch: only the commit's
 * trees and the folder's files cross the network. The checkout is copied into the code directory through
 * the safe writer, so git content meets the same path and size rules as an archive.
 */
export async function fetchGit(
  request: GitFetchRequest,
  stage: string,
  writer: SafeTreeWriter,
  config: CodeConfig,
  progress: ProgressLine,
  cancel: AbortSignal,
): Promise<GitFetchResult> {
  const limit = new AbortController();
  const signal = AbortSignal.any([cancel, limit.signal, AbortSignal.timeout(config.cloneTimeoutMs)]);
  const timeoutError = () => new PhaseError('fetching', `git took longer than ${config.cloneTimeoutMs} ms (limit --clone-timeout)`);
  let stageLabel = '';
  const git: SimpleGit = simpleGit({
    baseDir: stage,
    abort: signal,
    allowEnvironment: GIT_ENV,
    config: [
      'transfer.unpackLimit=1', // keep packs as packs: their size is what the download limit measures
      `http.lowSpeedLimit=1`,
      `http.lowSpeedTime=${Math.max(1, Math.round(config.stallTimeoutMs / 1000))}`,
      'advice.detachedHead=false',
      'core.symlinks=true',
    ],
    progress: ({ stage: s, progress: p }) => {
      stageLabel = `${s} ${p}%`;
    },
  }).env(gitEnvironment(config.allowHttp));

  const watch = setInterval(() => {
    void packBytes(stage).then((bytes) => {
      if (bytes > config.maxDownloadBytes) {
        limit.abort(new PhaseError('fetching', `the repository download exceeded ${formatBytes(config.maxDownloadBytes)} (limit --max-download-bytes)`));
      } else progress.update(bytes, undefined, stageLabel);
    });
  }, 250);
  try {
    const refs = parseLsRemote(await git.listRemote([request.remote]));
    let ref: ResolvedRef;
    let folder = '';
    if (request.treeSegments) ({ ref, path: folder } = splitTreeSegments(refs, request.treeSegments));
    else ref = resolveRef(refs, request.ref);
    const target = request.pin ?? ref.fetch;

    await git.init();
    await git.addRemote('origin', request.remote);
    if (folder) {
      await git.addConfig('core.sparseCheckout', 'true');
      await writeFile(join(stage, '.git', 'info', 'sparse-checkout'), sparsePattern(folder));
    }
    await git.fetch('origin', target, ['--depth=1', '--filter=blob:none', '--no-tags']);
    await git.checkout(['-q', 'FETCH_HEAD']);
    const commit = (await git.revparse(['HEAD'])).trim();
    // The watcher polls; a fetch faster than one poll is checked here.
    const fetched = await packBytes(stage);
    if (fetched > config.maxDownloadBytes) limit.abort(new PhaseError('fetching', `the repository download exceeded ${formatBytes(config.maxDownloadBytes)} (limit --max-download-bytes)`));
    if (limit.signal.aborted) throw limit.signal.reason;
    progress.done(`fetched ${ref.name} at ${commit.slice(0, 12)} (${formatBytes(fetched)} in ${(progress.elapsedMs / 1000).toFixed(1)} s)`);

    const source = folder ? join(stage, folder) : stage;
    const st = await lstat(source).catch(() => undefined);
    if (!st?.isDirectory()) throw new PhaseError('fetching', `folder "${folder}" does not exist in ${ref.name}`);
    await copyTree(source, writer, new Set(['.git']));
    return { commit, refName: ref.name, folder };
  } catch (err) {
    progress.abandon();
    if (signal.aborted && !cancel.aborted && !limit.signal.aborted) throw timeoutError();
    throw gitFailure(err, request, signal);
  } finally {
    clearInterval(watch);
  }
}
