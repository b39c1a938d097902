// What each deployable's image installs: `npm ci --omit=dev --omit=optional --ignore-scripts --workspace=X`
// (the command in its Dockerfile) in a scratch folder holding only the manifests and the lockfile, for the
// working tree and, as the baseline, a git revision (default: the last commit of the previous layout).
// Prints packages installed and node_modules size per deployable. Uses the npm cache (--prefer-offline).
//   node bench/install-size.js [baseline-rev]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const DEPLOYABLES = ['controller', 'gateway', 'supervisor', 'local'];
const baseline = process.argv[2] ?? '9c1f94d';
const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

/** The manifests of a tree: from the working tree (rev undefined) or from a git revision. */
function manifests(rev) {
  const read = (file) => (rev ? git('show', `${rev}:${file}`) : readFileSync(file, 'utf8'));
  const root = JSON.parse(read('package.json'));
  const files = { 'package.json': read('package.json'), 'package-lock.json': read('package-lock.json') };
  try {
    files['.npmrc'] = read('.npmrc');
  } catch {
    // the baseline had none
  }
  for (const ws of root.workspaces) files[`${ws}/package.json`] = read(`${ws}/package.json`);
  return files;
}

/** Installed packages: every folder with a package.json right under a node_modules (scoped ones included). */
function countPackages(modules) {
  let count = 0;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const folders = entry.name.startsWith('@') ? readdirSync(join(modules, entry.name)).map((n) => join(modules, entry.name, n)) : [join(modules, entry.name)];
    for (const folder of folders) {
      if (existsSync(join(folder, 'package.json'))) count++;
      if (existsSync(join(folder, 'node_modules'))) count += countPackages(join(folder, 'node_modules'));
    }
  }
  return count;
}

function measure(files, workspace) {
  const dir = mkdtempSync(join(tmpdir(), 'cliscale-install-size-'));
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    execFileSync('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', `--workspace=${workspace}`], {
      cwd: dir,
      stdio: 'ignore',
    });
    const modules = join(dir, 'node_modules');
    if (!existsSync(modules)) return { packages: 0, mib: 0 };
    const packages = countPackages(modules);
    const kib = Number(execFileSync('du', ['-sk', '--dereference-args', modules], { encoding: 'utf8' }).split('\t')[0]);
    return { packages, mib: Math.round(kib / 102.4) / 10 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const now = manifests();
const before = manifests(baseline);
console.log(`image node_modules (npm ci --omit=dev --workspace=X): baseline ${baseline} vs working tree`);
console.log('deployable   packages before -> after   MiB before -> after');
for (const ws of DEPLOYABLES) {
  const b = before[`${ws}/package.json`] ? measure(before, ws) : { packages: 0, mib: 0 };
  const a = measure(now, ws);
  console.log(`${ws.padEnd(12)} ${String(b.packages).padStart(8)} -> ${String(a.packages).padEnd(8)}      ${String(b.mib).padStart(7)} -> ${a.mib}`);
}
