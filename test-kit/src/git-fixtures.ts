import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
  }).trim();

function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
}

export interface FixtureRepo {
  /** Commits by name. */
  commits: { first: string; feature: string; main: string };
}

/**
 * `owner/repo.git` under `root`, served by git http-backend: nested folders, a 2 MiB file outside the folder
 * that sparse fetches must not download, a branch and a tag whose names contain slashes, a branch and a tag
 * sharing a prefix (`release` / `release/2.0`), and a branch whose folder holds an escaping symlink.
 */
export function createFixtureRepo(root: string): FixtureRepo {
  const work = join(root, 'work');
  mkdirSync(work, { recursive: true });
  git(work, 'init', '-q');
  write(work, {
    'README.md': '# fixture\n',
    'apps/web/run.sh': 'echo "files: $(find . -type f | sort | tr "\\n" " ")"\necho "deep: $(cat nested/deep/file.txt)"\n',
    'apps/web/.hidden': 'dotfile\n',
    'apps/web/nested/deep/file.txt': 'first version\n',
    'apps/api/big.bin': randomBytes(2 << 20),
  });
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'first');
  const first = git(work, 'rev-parse', 'HEAD');
  git(work, 'tag', '-a', 'release/2.0', '-m', 'a tag with a slash');
  git(work, 'branch', 'release');

  git(work, 'checkout', '-qb', 'feature/deep/branch');
  write(work, { 'apps/web/feature.txt': 'on the feature branch\n' });
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'feature');
  const feature = git(work, 'rev-parse', 'HEAD');

  git(work, 'checkout', '-q', 'release');
  write(work, { 'apps/web/release.txt': 'release branch\n' });
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'release');

  git(work, 'checkout', '-qb', 'evil', first);
  symlinkSync('../../..', join(work, 'apps/web/escape'));
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'escaping symlink');

  git(work, 'checkout', '-q', 'main');
  write(work, { 'apps/web/nested/deep/file.txt': 'second version\n' });
  git(work, 'commit', '-qam', 'second');
  const main = git(work, 'rev-parse', 'HEAD');

  const bare = join(root, 'repos', 'owner', 'repo.git');
  mkdirSync(dirname(bare), { recursive: true });
  git(root, 'clone', '-q', '--bare', work, bare);
  // What GitHub allows too: partial clone filters and fetching a commit by its id.
  git(bare, 'config', 'uploadpack.allowFilter', 'true');
  git(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
  return { commits: { first, feature, main } };
}
