// Fetch benchmark: how fast the supervisor gets a session's code, against the shell tools the original
// runner used (curl | tar, git clone), in the same run, on the same loopback servers.
//   node bench/fetch.js       (about 40 s; needs git, curl, tar, unzip, zip)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { installExitHandlers, killGroup, loadTypeScript, median, memoryOf, now, registerKiller, round } from './lib/common.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SUPERVISOR_BIN = new URL('../supervisor/bin/cliscale-supervisor.js', import.meta.url).pathname;
const MiB = 1 << 20;
installExitHandlers();
const log = (...a) => process.env.BENCH_DEBUG && console.error(...a);
const scratch = mkdtempSync(join(tmpdir(), 'cliscale-bench-fetch-'));
registerKiller(() => rmSync(scratch, { recursive: true, force: true }));
const sh = (cmd, cwd = scratch) => execFileSync('bash', ['-c', cmd], { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

function writeTree(root, files, size) {
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${i % 50}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), randomBytes(size / 2).toString('hex'));
  }
}

// A monorepo: the session's folder (300 files, 1.2 MiB) next to 40 MiB of other projects.
const work = join(scratch, 'work');
writeTree(join(work, 'apps/target'), 300, 4096);
writeTree(join(work, 'other'), 2000, 4096);
mkdirSync(join(work, 'assets'));
for (let i = 0; i < 4; i++) writeFileSync(join(work, 'assets', `blob${i}.bin`), randomBytes(8 * MiB));
sh('git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench', work);
const bare = join(scratch, 'repos/org/mono.git');
sh(`git clone -q --bare ${work} ${bare} && git -C ${bare} config uploadpack.allowFilter true`);
// What the original runner downloaded: GitHub's tarball of the whole repository.
sh(`git -C ${bare} archive --format=tar.gz --prefix=mono-main/ main > repo.tar.gz`);
// An archive of 10,000 small files plus one 30 MiB file: extraction cost per file and per byte.
const many = join(scratch, 'many/proj');
writeTree(many, 10_000, 2048);
writeFileSync(join(many, 'large.bin'), randomBytes(30 * MiB));
sh('tar czf many.tar.gz -C many proj && (cd many && zip -qr ../many.zip proj)');

const { startGitHttpServer } = await loadTypeScript('test-kit/src/git-http-server.ts');
const git = await startGitHttpServer(join(scratch, 'repos'));
const files = createServer((req, res) => {
  const name = new URL(req.url, 'http://x').pathname.slice(1);
  try {
    const body = readFileSync(join(scratch, name));
    res.writeHead(200, { 'content-length': body.length }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => files.listen(0, '127.0.0.1', r));
const filesUrl = `http://127.0.0.1:${files.address().port}`;

/** One supervisor session: ms from "fetching code" to "command started" (its own log), bytes served, peak RSS. */
async function supervisorRun(codeUrl) {
  const codeDir = join(scratch, `code-${Date.now()}-${Math.random()}`);
  const args = [SUPERVISOR_BIN, '--port', '0', '--no-exit', '--allow-http', '--github-url', git.url, '--code-url', codeUrl, '--code-dir', codeDir, '--install-cmd', '', '--', 'true'];
  const sent0 = git.bytesSent();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  registerKiller(() => killGroup(proc.pid));
  const times = {};
  for await (const line of createInterface({ input: proc.stderr })) {
    const entry = JSON.parse(line);
    log(line.slice(0, 300));
    if (entry.msg === 'fetching code') times.start = entry.time;
    if (entry.msg === 'command started') times.end = entry.time;
    if (entry.msg === 'session failed') throw new Error(`supervisor failed: ${entry.reason}`);
    if (times.end) break;
  }
  const { hwmMiB } = memoryOf(proc.pid);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  rmSync(codeDir, { recursive: true, force: true });
  return { ms: times.end - times.start, bytes: git.bytesSent() - sent0, peakRssMiB: hwmMiB };
}

/** The baseline shell pipeline, run asynchronously: the git server it talks to lives in this process. */
async function shellRun(cmd) {
  const dir = mkdtempSync(join(scratch, 'shell-'));
  const sent0 = git.bytesSent();
  const t0 = now();
  const proc = spawn('bash', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`baseline failed (${code}): ${cmd}`);
  const ms = now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return { ms, bytes: git.bytesSent() - sent0 };
}

const workloads = [
  ['folder of a monorepo (GitHub tree URL)', () => supervisorRun('https://github.com/org/mono/tree/main/apps/target'),
    'git clone --depth 1', () => shellRun(`git clone -q --depth 1 ${git.url}/org/mono.git src`)],
  ['folder of a monorepo (GitHub tree URL)', () => supervisorRun('https://github.com/org/mono/tree/main/apps/target'),
    'curl tarball | tar xz (original runner)', () => shellRun(`curl -sf ${filesUrl}/repo.tar.gz | tar xz && find . -type d -name target`)],
  ['tar.gz, 10,001 files, 50 MiB', () => supervisorRun(`${filesUrl}/many.tar.gz`),
    'curl | tar xz', () => shellRun(`curl -sf ${filesUrl}/many.tar.gz | tar xz`)],
  ['zip, 10,001 files, 50 MiB', () => supervisorRun(`${filesUrl}/many.zip`),
    'curl -o + unzip', () => shellRun(`curl -sfo a.zip ${filesUrl}/many.zip && unzip -q a.zip`)],
];

// BENCH_ONLY=tar,zip,folder picks workloads by a word of their name.
const only = process.env.BENCH_ONLY?.split(',');
const selected = only ? workloads.filter(([name]) => only.some((w) => name.includes(w))) : workloads;
console.log(`fetch benchmark, medians of ${RUNS} runs (loopback servers; supervisor: fetch start to command start)\n`);
const results = [];
for (const [name, ours, baseName, base] of selected) {
  const a = [];
  const b = [];
  for (let i = 0; i < RUNS; i++) {
    log("ours", name);
    a.push(await ours());
    log("base", baseName);
    b.push(await base());
  }
  const row = {
    workload: name,
    supervisorMs: round(median(a.map((r) => r.ms)), 0),
    baseline: baseName,
    baselineMs: round(median(b.map((r) => r.ms)), 0),
    ratio: round(median(a.map((r) => r.ms)) / median(b.map((r) => r.ms))),
    supervisorGitMiB: round(median(a.map((r) => r.bytes)) / MiB),
    baselineGitMiB: round(median(b.map((r) => r.bytes)) / MiB),
    supervisorPeakRssMiB: round(median(a.map((r) => r.peakRssMiB)), 0),
  };
  results.push(row);
  console.log(JSON.stringify(row));
}
console.table(results);
await git.close();
files.close();
rmSync(scratch, { recursive: true, force: true });
process.exit(0);
