import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeConfig } from '../config-code.js';
import { PhaseError } from './phase-error.js';
import { hostAllowed } from '@cliscale/runner-contract';

export type ArchiveFormat = 'zip' | 'tar.gz' | 'tar';

/** What a code URL names, decided from its shape alone (no network). */
export type CodeSource =
  /** `github.com/O/R/tree/<ref and path segments>`: which segments are the ref is only known from the remote. */
  | { kind: 'github-tree'; remote: string; segments: string[]; display: string }
  | { kind: 'git'; remote: string; ref?: string; display: string }
  | { kind: 'archive'; url: URL; format?: ArchiveFormat; display: string }
  | { kind: 'local'; path: string; display: string };

const fail = (message: string): never => {
  throw new PhaseError('fetching', message);
};

/** The URL without user info, and with query values hidden: presigned URLs carry secrets there. */
export function redactUrl(url: URL): string {
  const keys = [...new Set(url.searchParams.keys())];
  const query = keys.length ? `?${keys.map((k) => `${encodeURIComponent(k)}=…`).join('&')}` : '';
  return `${url.protocol}//${url.host}${url.pathname}${query}${url.hash}`;
}

/** Scheme and host policy, applied to the code URL and again to every redirect target. */
export function checkRemoteUrl(url: URL, config: CodeConfig): void {
  if (url.protocol === 'http:' && !config.allowHttp) fail(`${redactUrl(url)} is plain http; only https is allowed (--allow-http)`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`unsupported URL scheme ${url.protocol} (use https)`);
  if (!hostAllowed(url.hostname, config.allowedHosts)) {
    fail(`host ${url.hostname} is not allowed (allowed: ${config.allowedHosts.join(', ')})`);
  }
}

function archiveFormat(pathname: string): ArchiveFormat | undefined {
  const p = pathname.toLowerCase();
  if (p.endsWith('.zip')) return 'zip';
  if (p.endsWith('.tar.gz') || p.endsWith('.tgz')) return 'tar.gz';
  if (p.endsWith('.tar')) return 'tar';
  return undefined;
}

function githubSource(url: URL, config: CodeConfig): CodeSource {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [owner, repoRaw, kind, ...rest] = parts;
  if (!owner || !repoRaw) fail(`${url.href} does not name a repository (https://github.com/OWNER/REPO/tree/REF/PATH)`);
  const repo = repoRaw!.replace(/\.git$/, '');
  const remote = `${config.githubUrl}/${encodeURIComponent(owner!)}/${encodeURIComponent(repo)}.git`;
  const display = redactUrl(url);
  if (kind === undefined) return { kind: 'git', remote, ref: url.hash ? decodeURIComponent(url.hash.slice(1)) : undefined, display };
  if (kind === 'blob') fail(`${display} points at a single file; use a /tree/ URL for a folder`);
  if (kind !== 'tree') fail(`${display} is not a repository or folder URL (expected /tree/REF/PATH)`);
  if (rest.length === 0) fail(`${display} has no ref after /tree/`);
  if (rest.some((s) => s === '..' || s === '.')) fail(`${display} contains "." or ".." path segments`);
  return { kind: 'github-tree', remote, segments: rest, display };
}

/** Classifies the code URL and applies the scheme/host policy. Throws PhaseError('fetching') with the reason. */
export function parseCodeSource(raw: string, config: CodeConfig, cwd: string): CodeSource {
  if (raw.length > 4096) fail('the code URL is longer than 4096 characters');
  const looksLocal = raw.startsWith('/') || raw.startsWith('./') || raw.startsWith('../') || raw.startsWith('file:');
  if (looksLocal) {
    if (!config.allowLocal) fail(`local code (${raw}) is only allowed with --allow-local-code`);
    let path: string;
    try {
      path = raw.startsWith('file:') ? fileURLToPath(raw) : isAbsolute(raw) ? raw : resolve(cwd, raw);
    } catch {
      return fail(`${raw} is not a valid file URL`);
    }
    return { kind: 'local', path, display: path };
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`"${raw.slice(0, 200)}" is not a URL`);
  }
  checkRemoteUrl(url, config);
  if (url.hostname.toLowerCase() === 'github.com' || url.hostname.toLowerCase() === 'www.github.com') {
    if (!/\.(zip|tar\.gz|tgz|tar)$/i.test(url.pathname)) return githubSource(url, config);
  }
  const display = redactUrl(url);
  if (/\.git\/?$/i.test(url.pathname)) {
    const ref = url.hash ? decodeURIComponent(url.hash.slice(1)) : undefined;
    const remote = new URL(url.href);
    remote.hash = '';
    return { kind: 'git', remote: remote.href, ref: ref || undefined, display };
  }
  return { kind: 'archive', url, format: archiveFormat(url.pathname), display };
}
