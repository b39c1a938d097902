import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarArchive, tarGz, zipArchive, type ArchiveEntry } from '@cliscale/test-kit/archive-builders';
import { runCodeSession } from './helpers/code-session.js';
import { bytes, redirect, startFileServer } from '@cliscale/test-kit/file-server';
import { connectWithCleanup } from './helpers/cleanup.js';
import { startSupervisor } from '@cliscale/test-kit/supervisor-process';

const connect = connectWithCleanup();

const PROJECT: ArchiveEntry[] = [
  { name: 'proj-main/', type: 'dir' },
  { name: 'proj-main/run.sh', data: 'echo "ran in $(basename "$PWD") with $(ls -A | tr "\\n" " ")"\n', mode: 0o755 },
  { name: 'proj-main/.env.example', data: 'A=1\n' },
  { name: 'proj-main/lib/deep/data.txt', data: 'nested file\n' },
];
const TGZ = tarGz(PROJECT);
const ZIP = zipArchive(PROJECT);
// Random bytes do not compress: a 3 MiB download, trickled out over ~1.2 s.
const SLOW = tarGz([{ name: 'run.sh', data: 'echo slow done\n' }, { name: 'noise.bin', data: randomBytes(3 * (1 << 20)) }]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1 << 20;

let server: Awaited<ReturnType<typeof startFileServer>>;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cliscale-fetch-test-'));
  server = await startFileServer({
    '/proj.tar.gz': bytes(TGZ, 'application/gzip'),
    '/proj.zip': bytes(ZIP, 'application/zip'),
    '/proj.tar': bytes(tarArchive(PROJECT), null),
    '/download/zip-by-type': bytes(ZIP, 'application/zip'),
    '/download/zip-by-magic': bytes(ZIP, null),
    '/download/tgz-by-magic': bytes(TGZ, 'application/octet-stream'),
    '/error-page.zip': bytes(Buffer.from('<!DOCTYPE html><title>Sign in</title>'), 'text/html'),
    '/hop1': redirect('/hop2'),
    '/hop2': redirect('/proj.tar.gz', 301),
    '/loop': redirect('/loop'),
    '/to-other-host': redirect('http://localhost:1/proj.tar.gz'),
    '/slip.zip': bytes(zipArchive([{ name: 'ok.txt', data: 'ok' }, { name: '../escaped.txt', data: 'pwned' }]), 'application/zip'),
    '/slip.tar.gz': bytes(tarGz([{ name: 'a/../../escaped.txt', data: 'pwned' }])),
    '/absolute.tar': bytes(tarArchive([{ name: '/tmp/escaped-absolute.txt', data: 'pwned' }])),
    '/symlink-out.tar.gz': bytes(tarGz([{ name: 'p/link', type: 'symlink', link: '../../../../etc' }, { name: 'p/link/passwd', data: 'x' }])),
    '/symlink-out.zip': bytes(zipArchive([{ name: 'etc', type: 'symlink', link: '/etc' }]), 'application/zip'),
    '/symlink-unwrap.tar.gz': bytes(tarGz([{ name: 'top/', type: 'dir' }, { name: 'top/up', type: 'symlink', link: '../top/..' }])),
    // l1 looks inside (l2/.. cancels out on paper), but l2 is the root itself, so l1 is the root's parent.
    '/symlink-chain.tar': bytes(tarArchive([
      { name: 'a.txt', data: 'a' },
      { name: 'l2', type: 'symlink', link: '.' },
      { name: 'l1', type: 'symlink', link: 'l2/..' },
      { name: 'l1/pwned.txt', data: 'pwned' },
    ])),
    '/hardlink-out.tar.gz': bytes(tarGz([{ name: 'h', type: 'hardlink', link: '../../etc/passwd' }])),
    '/device.tar.gz': bytes(tarGz([{ name: 'run.sh', data: 'echo device-free\n' }, { name: 'tty', type: 'chardev' }])),
    // 64 MiB of zeros deflate to ~64 KiB: a small download that would fill the disk.
    '/bomb.zip': bytes(zipArchive([{ name: 'zeros.bin', data: Buffer.alloc(64 * MiB) }]), 'application/zip'),
    '/big.tar': bytes(Buffer.alloc(3 * MiB)),
    '/endless': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => clearInterval(timer));
    },
    '/slow.tar.gz': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': SLOW.length });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(SLOW.subarray(sent, (sent += 128 * 1024)));
        if (sent >= SLOW.length) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
    },
    // Directory entries followed at once by their files: directory and file writes must not race.
    '/many-dirs.tar.gz': bytes(tarGz([{ name: 'run.sh', data: 'ls d | wc -l; cat d/*/f | wc -l\n' }, ...Array.from({ length: 300 }, (_, i) => [
      { name: `d/${i}/`, type: 'dir' as const },
      { name: `d/${i}/f`, data: `${i}\n` },
    ]).flat()])),
    '/stalls.zip': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': ZIP.length });
      res.write(ZIP.subarray(0, 10)); // and then nothing, ever
    },
  });
});

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const url = (path: string) => `${server.url}${path}`;
const run = (path: string, extra: string[] = [], command = ['sh', 'run.sh']) =>
  runCodeSession(['--allow-http', '--code-url', url(path), '--install-cmd', '', ...extra, '--', ...command]);

describe('archives', () => {
  it('downloads a .tar.gz, unwraps its single folder (dotfiles too) and runs the command in it', async () => {
    const out = await run('/proj.tar.gz');
    expect(out.exitCode).toBe(0);
    expect(out.status).toMatchObject({ state: 'exited', phase: 'exited', exitCode: 0, failure: null });
    expect(out.text).toMatch(/▸ fetching http:\/\/127\.0\.0\.1:\d+\/proj\.tar\.gz/);
    expect(out.text).toMatch(/downloaded \d+ B in [\d.]+ s/);
    expect(out.text).toContain(`sha256 ${sha256(TGZ)}`);
    expect(out.text).toContain('▸ extracting tar.gz');
    expect(out.text).toContain('top folder unwrapped');
    expect(out.text).toContain('▸ installing skipped (empty install command)');
    expect(out.text).toContain('▸ starting sh run.sh');
    expect(out.text).toMatch(/ran in cliscale-code-\w+ with \.env\.example lib run\.sh/);
  });

  it.each([
    ['/proj.zip', 'zip'],
    ['/proj.tar', 'tar'],
    ['/download/zip-by-type', 'zip'],
    ['/download/zip-by-magic', 'zip'],
    ['/download/tgz-by-magic', 'tar.gz'],
  ])('recognises %s as %s', async (path, format) => {
    const out = await run(path);
    expect(out.text).toContain(`▸ extracting ${format}`);
    expect(out.text).toMatch(/ran in cliscale-code-\w+ with \.env\.example lib run\.sh/);
    expect(out.exitCode).toBe(0);
  });

  it('shows download progress (bytes, percent, rate) to a watching client, then the summary', async () => {
    const sup = await startSupervisor(['--allow-http', '--code-url', url('/slow.tar.gz'), '--install-cmd', '', '--', 'sh', 'run.sh']);
    const client = await connect(sup.wsUrl, { screen: true, init: { columns: 120, rows: 30 } });
    await client.waitForText(/\d+\.\d MiB of 3\.0 MiB\s+\d+%\s+[\d.]+ (KiB|MiB)\/s/);
    await client.closed;
    const lines = (await client.screenDump()).lines;
    // The progress line was rewritten in place: only the summary remains.
    expect(lines.filter((l) => /[KM]iB\/s/.test(l))).toEqual([expect.stringMatching(/^ {2}downloaded 3\.0 MiB in [\d.]+ s \([\d.]+ (KiB|MiB)\/s\)$/)]);
    expect(lines).toContain('slow done');
    expect((await sup.exited).code).toBe(0);
  });

  it('removes the temporary code directory it made when it exits', async () => {
    const out = await run('/proj.tar.gz', [], ['sh', '-c', 'pwd']);
    const dir = /^(\/\S+cliscale-code-\w+)$/m.exec(out.text)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
  });

  it('extracts directory entries and their files in order (300 folders)', async () => {
    const out = await run('/many-dirs.tar.gz');
    expect(out.text).toMatch(/^300\n300$/m);
    expect(out.exitCode).toBe(0);
  });

  it('follows redirects and puts the code in --code-dir', async () => {
    const dir = join(scratch, 'code-here');
    const out = await run('/hop1', ['--code-dir', dir]);
    expect(out.exitCode).toBe(0);
    expect(out.text).toContain('ran in code-here with .env.example lib run.sh');
    expect(readdirSync(dir).sort()).toEqual(['.env.example', 'lib', 'run.sh']);
  });

  it('runs the command only when the checksum matches', async () => {
    const good = await run('/proj.tar.gz', ['--checksum', sha256(TGZ)]);
    expect(good.exitCode).toBe(0);
    expect(good.text).toContain(`sha256 ${sha256(TGZ)} matches`);

    const bad = await run('/proj.tar.gz', ['--checksum', 'ab'.repeat(32)]);
    expect(bad.exitCode).toBe(5);
    expect(bad.status).toMatchObject({ state: 'failed', phase: 'failed', exitCode: 5, failure: { phase: 'verifying' } });
    expect(bad.text).toContain(`✖ verification failed: sha256 mismatch: expected ${'ab'.repeat(32)}, got ${sha256(TGZ)}`);
    expect(bad.text).not.toContain('ran in');
    expect(bad.text).not.toContain('▸ extracting');
  });
});

describe('refused downloads (exit 3)', () => {
  it.each([
    ['/missing.zip', [], /fetch failed: HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/missing\.zip/],
    ['/error-page.zip', [], /fetch failed: expected a zip archive but got text\/html, starting with "<!DOCTYPE html><title>Sign in<\/t"/],
    ['/loop', ['--max-redirects', '3'], /fetch failed: more than 3 redirects \(limit --max-redirects\)/],
    ['/to-other-host', ['--allowed-hosts', '127.0.0.1'], /fetch failed: host localhost is not allowed \(allowed: 127\.0\.0\.1\)/],
    ['/big.tar', ['--max-download-bytes', String(MiB)], /fetch failed: the archive is 3\.0 MiB, more than 1\.0 MiB \(limit --max-download-bytes\)/],
    ['/endless', ['--max-download-bytes', String(2 * MiB)], /fetch failed: the download exceeded 2\.0 MiB \(limit --max-download-bytes\)/],
    ['/endless', ['--download-timeout', '700'], /fetch failed: the download took longer than 700 ms \(limit --download-timeout\)/],
    ['/stalls.zip', ['--stall-timeout', '500'], /fetch failed: 127\.0\.0\.1:\d+ sent nothing for 500 ms \(limit --stall-timeout\)/],
  ])('%s %j', async (path, extra, message) => {
    const out = await run(path, extra);
    expect(out.text).toMatch(message);
    expect(out.exitCode).toBe(3);
    expect(out.status).toMatchObject({ state: 'failed', exitCode: 3, failure: { phase: 'fetching' } });
    expect(out.text).not.toContain('▸ starting');
  });

  it('refuses plain http unless allowed, and names the flag', async () => {
    const out = await runCodeSession(['--code-url', url('/proj.tar.gz'), '--', 'true']);
    expect(out.text).toMatch(/fetch failed: http:\/\/127\.0\.0\.1:\d+\/proj\.tar\.gz is plain http; only https is allowed \(--allow-http\)/);
    expect(out.exitCode).toBe(3);
  });

  it('never shows credentials or query secrets from the URL', async () => {
    const withSecrets = url('/proj.tar.gz').replace('http://', 'http://user:hunter2@') + '?X-Amz-Signature=s3cr3t';
    const out = await runCodeSession(['--allow-http', '--code-url', withSecrets, '--install-cmd', '', '--', 'sh', 'run.sh']);
    expect(out.exitCode).toBe(0);
    expect(out.text).toMatch(/fetching http:\/\/127\.0\.0\.1:\d+\/proj\.tar\.gz\?X-Amz-Signature=…/);
    for (const secret of ['hunter2', 's3cr3t']) {
      expect(out.text).not.toContain(secret);
      expect(out.supervisor.stderr).not.toContain(secret);
    }
  });
});

describe('malicious archives (exit 6, nothing written outside)', () => {
  it.each([
    ['/slip.zip', 'entry "../escaped.txt" leaves the code directory ("..")'],
    ['/slip.tar.gz', 'entry "a/../../escaped.txt" leaves the code directory ("..")'],
    ['/absolute.tar', 'entry "/tmp/escaped-absolute.txt" has an absolute path'],
    ['/symlink-out.tar.gz', 'symlink "p/link" points outside the code directory (../../../../etc)'],
    ['/symlink-out.zip', 'symlink "etc" points to an absolute path (/etc)'],
    ['/symlink-unwrap.tar.gz', 'symlink "up" points outside the code directory (../top/..)'],
    ['/symlink-chain.tar', 'entry "l1/pwned.txt" would be written through a symlink'],
    ['/hardlink-out.tar.gz', 'hard link "h" points outside the code directory (../../etc/passwd)'],
    ['/bomb.zip', 'the code is larger than 8.0 MiB unpacked (limit --max-extracted-bytes)'],
  ])('%s', async (path, message) => {
    const dir = join(scratch, `victim-${path.replace(/\W/g, '')}`, 'code');
    const out = await run(path, ['--code-dir', dir, '--max-extracted-bytes', String(8 * MiB)]);
    expect(out.text).toContain(`✖ extraction failed: ${message}`);
    expect(out.exitCode).toBe(6);
    expect(out.status).toMatchObject({ state: 'failed', exitCode: 6, failure: { phase: 'extracting' } });
    // The scratch folder is gone and nothing landed next to the code directory.
    expect(readdirSync(join(dir, '..'))).toEqual(['code']);
    expect(readdirSync(dir).filter((n) => n.startsWith('.cliscale-fetch-'))).toEqual([]);
    expect(existsSync('/tmp/escaped-absolute.txt')).toBe(false);
  });

  it('refuses more files than --max-files', async () => {
    const out = await run('/proj.tar.gz', ['--max-files', '2']);
    expect(out.text).toContain('✖ extraction failed: more than 2 files (limit --max-files)');
    expect(out.exitCode).toBe(6);
  });

  it('skips device files and says so', async () => {
    const out = await run('/device.tar.gz');
    expect(out.text).toContain('1 special files skipped');
    expect(out.text).toContain('device-free');
    expect(out.exitCode).toBe(0);
  });
});
