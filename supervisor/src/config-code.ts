import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';

/** Where the session's code comes from, how it is installed, and the limits that keep a fetch safe. */
export interface CodeConfig {
  /** Absent: the supervisor runs the command in --cwd as it is (no fetch, no install). */
  url?: string;
  /** Where the code goes; created empty. Undefined: a fresh directory under the system's temp dir. */
  dir?: string;
  /** undefined: choose from the fetched files (npm ci / npm install / nothing); '': skip installing. */
  installCommand?: string;
  checksumSha256?: string;
  /** A git commit the fetched tree must be (full 40-hex SHA-1). */
  commit?: string;
  allowHttp: boolean;
  allowLocal: boolean;
  /** Lower-case host names (`*.example.com` matches subdomains); empty: any host. */
  allowedHosts: string[];
  /** Base URL that GitHub tree/repository URLs are fetched from (tests point it at a local git server). */
  githubUrl: string;
  maxDownloadBytes: number;
  maxExtractedBytes: number;
  maxFiles: number;
  maxRedirects: number;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  downloadTimeoutMs: number;
  cloneTimeoutMs: number;
  installTimeoutMs: number;
}

export function integer(min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer between ${min} and ${max}, got "${raw}"`);
    }
    return value;
  };
}

function hexDigest(length: number, what: string) {
  return (raw: string): string => {
    const v = raw.trim().toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${length}}$`).test(v)) throw new InvalidArgumentError(`expected ${what} (${length} hex digits)`);
    return v;
  };
}

function hostList(raw: string): string[] {
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of hosts) {
    if (!/^(\*\.)?[a-z0-9.-]+(:\d+)?$/.test(h)) throw new InvalidArgumentError(`"${h}" is not a host name`);
  }
  return hosts;
}

function baseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
    return url.href.replace(/\/+$/, '');
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL, got "${raw}"`);
  }
}

const MiB = 1 << 20;
const MAX_BYTES = 64 * 1024 * MiB;

/** Same shape as config.ts's option table; merged into the one CLI. */
export const CODE_VALUE_OPTIONS = [
  { flags: '--code-url <url>', key: 'codeUrl', env: 'CODE_URL', description: 'fetch the code from here first: GitHub tree URL, git repository (.git[#ref]), .zip/.tar.gz/.tar archive, or a local directory (with --allow-local-code)' },
  { flags: '--code-dir <dir>', key: 'codeDir', env: 'CODE_DIR', description: 'where the code goes; must be empty or absent (default: a new temporary directory)' },
  { flags: '--install-cmd <command>', key: 'installCmd', env: 'INSTALL_CMD', description: 'install command run in the code directory (default: npm ci with a lockfile, npm install with only package.json; "" skips)' },
  { flags: '--checksum <sha256>', key: 'checksum', env: 'CODE_CHECKSUM_SHA256', description: 'SHA-256 the downloaded archive must have', parse: hexDigest(64, 'a SHA-256') },
  { flags: '--commit <sha>', key: 'commit', env: 'CODE_COMMIT', description: 'git commit the fetched code must be', parse: hexDigest(40, 'a full commit id') },
  { flags: '--allowed-hosts <hosts>', key: 'allowedHosts', env: 'ALLOWED_CODE_HOSTS', description: 'comma-separated hosts code may come from, *.domain for subdomains (default: any)', parse: hostList },
  { flags: '--github-url <url>', key: 'githubUrl', env: 'GITHUB_URL', description: 'where github.com repositories are fetched from', default: 'https://github.com', parse: baseUrl },
  { flags: '--max-download-bytes <n>', key: 'maxDownloadBytes', env: 'MAX_DOWNLOAD_BYTES', description: 'largest download (archive or git pack)', default: 512 * MiB, defaultText: '512 MiB', parse: integer(1, MAX_BYTES) },
  { flags: '--max-extracted-bytes <n>', key: 'maxExtractedBytes', env: 'MAX_EXTRACTED_BYTES', description: 'largest total size of the extracted files', default: 2048 * MiB, defaultText: '2 GiB', parse: integer(1, MAX_BYTES) },
  { flags: '--max-files <n>', key: 'maxFiles', env: 'MAX_FILES', description: 'most files and directories the code may have', default: 100_000, parse: integer(1, 10_000_000) },
  { flags: '--max-redirects <n>', key: 'maxRedirects', env: 'MAX_REDIRECTS', description: 'HTTP redirects followed (each target re-checked)', default: 5, parse: integer(0, 20) },
  { flags: '--connect-timeout <ms>', key: 'connectTimeout', env: 'CONNECT_TIMEOUT_MS', description: 'time to connect to the code host', default: 15_000, parse: integer(1, 600_000) },
  { flags: '--stall-timeout <ms>', key: 'stallTimeout', env: 'STALL_TIMEOUT_MS', description: 'a download or clone receiving nothing this long fails', default: 60_000, parse: integer(1, 3_600_000) },
  { flags: '--download-timeout <ms>', key: 'downloadTimeout', env: 'DOWNLOAD_TIMEOUT_MS', description: 'longest archive download', default: 600_000, parse: integer(1, 86_400_000) },
  { flags: '--clone-timeout <ms>', key: 'cloneTimeout', env: 'CLONE_TIMEOUT_MS', description: 'longest git fetch', default: 600_000, parse: integer(1, 86_400_000) },
  { flags: '--install-timeout <ms>', key: 'installTimeout', env: 'INSTALL_TIMEOUT_MS', description: 'longest install', default: 1_800_000, parse: integer(1, 86_400_000) },
];

export const CODE_SWITCHES = [
  { flags: '--allow-http', key: 'allowHttp', env: 'ALLOW_HTTP', description: 'allow http: code URLs (default: https only)', flagValue: true, default: false },
  { flags: '--allow-local-code', key: 'allowLocalCode', env: 'ALLOW_LOCAL_CODE', description: 'allow a local directory or file:// URL as the code (never in a pod)', flagValue: true, default: false },
];

/** Builds CodeConfig from merged option values; `installCmdGiven` tells an explicit "" from nothing. */
export function toCodeConfig(o: Record<string, any>, installCmdGiven: boolean): CodeConfig {
  return {
    url: o.codeUrl?.trim() || undefined,
    dir: o.codeDir ? resolve(o.codeDir) : undefined,
    installCommand: installCmdGiven ? (o.installCmd ?? '').trim() : undefined,
    checksumSha256: o.checksum,
    commit: o.commit,
    allowHttp: o.allowHttp,
    allowLocal: o.allowLocalCode,
    allowedHosts: o.allowedHosts ?? [],
    githubUrl: o.githubUrl,
    maxDownloadBytes: o.maxDownloadBytes,
    maxExtractedBytes: o.maxExtractedBytes,
    maxFiles: o.maxFiles,
    maxRedirects: o.maxRedirects,
    connectTimeoutMs: o.connectTimeout,
    stallTimeoutMs: o.stallTimeout,
    downloadTimeoutMs: o.downloadTimeout,
    cloneTimeoutMs: o.cloneTimeout,
    installTimeoutMs: o.installTimeout,
  };
}
