import { resolve } from 'node:path';
import { z } from 'zod';
import { SUPERVISOR_ENV as E } from '@cliscale/runner-contract';
import { bool } from '@cliscale/service-kit';
import { baseUrl, hexDigest, hostList, integer } from './config-values.js';
import type { SwitchFlag, ValueFlag } from './config-program.js';

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

const MiB = 1 << 20;
const MAX_BYTES = 64 * 1024 * MiB;

/** The code's environment variables; merged into the supervisor's one schema (config.ts). */
export const CODE_VARIABLES = z.object({
  [E.codeUrl]: z.string().optional(),
  [E.codeDir]: z.string().optional(),
  [E.installCmd]: z.string().optional(),
  [E.checksumSha256]: hexDigest(64, 'a SHA-256').optional(),
  [E.commit]: hexDigest(40, 'a full commit id').optional(),
  [E.allowedCodeHosts]: hostList.optional(),
  [E.githubUrl]: baseUrl.default('https://github.com'),
  [E.maxDownloadBytes]: integer(1, MAX_BYTES).default(512 * MiB),
  [E.maxExtractedBytes]: integer(1, MAX_BYTES).default(2048 * MiB),
  [E.maxFiles]: integer(1, 10_000_000).default(100_000),
  [E.maxRedirects]: integer(0, 20).default(5),
  [E.connectTimeoutMs]: integer(1, 600_000).default(15_000),
  [E.stallTimeoutMs]: integer(1, 3_600_000).default(60_000),
  [E.downloadTimeoutMs]: integer(1, 86_400_000).default(600_000),
  [E.cloneTimeoutMs]: integer(1, 86_400_000).default(600_000),
  [E.installTimeoutMs]: integer(1, 86_400_000).default(1_800_000),
  [E.allowHttp]: bool.default(false),
  [E.allowLocalCode]: bool.default(false),
});

export const CODE_FLAGS: ValueFlag[] = [
  { setting: 'codeUrl', flags: '--code-url <url>', description: 'fetch the code from here first: GitHub tree URL, git repository (.git[#ref]), .zip/.tar.gz/.tar archive, or a local directory (with --allow-local-code)' },
  { setting: 'codeDir', flags: '--code-dir <dir>', description: 'where the code goes; must be empty or absent (default: a new temporary directory)' },
  { setting: 'installCmd', flags: '--install-cmd <command>', description: 'install command run in the code directory (default: npm ci with a lockfile, npm install with only package.json; "" skips)' },
  { setting: 'checksumSha256', flags: '--checksum <sha256>', description: 'SHA-256 the downloaded archive must have' },
  { setting: 'commit', flags: '--commit <sha>', description: 'git commit the fetched code must be' },
  { setting: 'allowedCodeHosts', flags: '--allowed-hosts <hosts>', description: 'comma-separated hosts code may come from, *.domain for subdomains (default: any)' },
  { setting: 'githubUrl', flags: '--github-url <url>', description: 'where github.com repositories are fetched from' },
  { setting: 'maxDownloadBytes', flags: '--max-download-bytes <n>', description: 'largest download (archive or git pack)', defaultText: '512 MiB' },
  { setting: 'maxExtractedBytes', flags: '--max-extracted-bytes <n>', description: 'largest total size of the extracted files', defaultText: '2 GiB' },
  { setting: 'maxFiles', flags: '--max-files <n>', description: 'most files and directories the code may have' },
  { setting: 'maxRedirects', flags: '--max-redirects <n>', description: 'HTTP redirects followed (each target re-checked)' },
  { setting: 'connectTimeoutMs', flags: '--connect-timeout <ms>', description: 'time to connect to the code host' },
  { setting: 'stallTimeoutMs', flags: '--stall-timeout <ms>', description: 'a download or clone receiving nothing this long fails' },
  { setting: 'downloadTimeoutMs', flags: '--download-timeout <ms>', description: 'longest archive download' },
  { setting: 'cloneTimeoutMs', flags: '--clone-timeout <ms>', description: 'longest git fetch' },
  { setting: 'installTimeoutMs', flags: '--install-timeout <ms>', description: 'longest install' },
];

export const CODE_SWITCHES: SwitchFlag[] = [
  { setting: 'allowHttp', flags: '--allow-http', description: 'allow http: code URLs (default: https only)', sets: 'true' },
  { setting: 'allowLocalCode', flags: '--allow-local-code', description: 'allow a local directory or file:// URL as the code (never in a pod)', sets: 'true' },
];

/** The code's part of the configuration; `installCmdGiven` tells an explicit "" (skip installing) from nothing. */
export function toCodeConfig(v: z.infer<typeof CODE_VARIABLES>, installCmdGiven: boolean): CodeConfig {
  const dir = v[E.codeDir];
  return {
    url: v[E.codeUrl]?.trim() || undefined,
    dir: dir ? resolve(dir) : undefined,
    installCommand: installCmdGiven ? (v[E.installCmd] ?? '').trim() : undefined,
    checksumSha256: v[E.checksumSha256],
    commit: v[E.commit],
    allowHttp: v[E.allowHttp],
    allowLocal: v[E.allowLocalCode],
    allowedHosts: v[E.allowedCodeHosts] ?? [],
    githubUrl: v[E.githubUrl],
    maxDownloadBytes: v[E.maxDownloadBytes],
    maxExtractedBytes: v[E.maxExtractedBytes],
    maxFiles: v[E.maxFiles],
    maxRedirects: v[E.maxRedirects],
    connectTimeoutMs: v[E.connectTimeoutMs],
    stallTimeoutMs: v[E.stallTimeoutMs],
    downloadTimeoutMs: v[E.downloadTimeoutMs],
    cloneTimeoutMs: v[E.cloneTimeoutMs],
    installTimeoutMs: v[E.installTimeoutMs],
  };
}
