import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCodeSession } from './helpers/code-session.js';
import { createFixtureRepo, type FixtureRepo } from '@cliscale/test-kit/git-fixtures';
import { startGitHttpServer } from '@cliscale/test-kit/git-http-server';
import { stopAllSupervisors } from '@cliscale/test-kit/supervisor-process';

let scratch: string;
let repo: FixtureRepo;
let server: Awaited<ReturnType<typeof startGitHttpServer>>;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cliscale-git-test-'));
  repo = createFixtureRepo(scratch);
  server = await startGitHttpServer(join(scratch, 'repos'));
});
afterEach(stopAllSupervisors);
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** github.com URLs are fetched from the local git server, as the supervisor's --github-url allows. */
const run = (codeUrl: string, extra: string[] = [], command = ['sh', 'run.sh']) =>
  runCodeSession(['--allow-http', '--github-url', server.url, '--code-url', codeUrl, '--install-cmd', '', ...extra, '--', ...command]);

const GH = 'https://github.com/owner/repo';

describe('GitHub tree URLs', () => {
  it('fetches a nested folder of a branch whose name has slashes, and only that folder', async () => {
    const before = server.bytesSent();
    const out = await run(`${GH}/tree/feature/deep/branch/apps/web`);
    expect(out.exitCode).toBe(0);
    expect(out.text).toContain(`fetched feature/deep/branch at ${repo.commits.feature.slice(0, 12)}`);
    expect(out.text).toContain('folder apps/web: ');
    expect(out.text).toContain('files: ./.hidden ./feature.txt ./nested/deep/file.txt ./run.sh');
    expect(out.text).toContain('deep: first version');
    // The 2 MiB file in apps/api never crossed the network: a shallow, partial, sparse fetch.
    expect(server.bytesSent() - before).toBeLessThan(256 * 1024);
  });

  it('takes the longest matching ref: tag release/2.0 over branch release', async () => {
    const tag = await run(`${GH}/tree/release/2.0/apps/web`);
    expect(tag.text).toContain('fetched release/2.0 at');
    expect(tag.text).toContain('files: ./.hidden ./nested/deep/file.txt ./run.sh');
    const branch = await run(`${GH}/tree/release/apps/web`);
    expect(branch.text).toContain('fetched release at');
    expect(branch.text).toContain('files: ./.hidden ./nested/deep/file.txt ./release.txt ./run.sh');
  });

  it('fetches the whole repository for /tree/REF, and a commit given by its id', async () => {
    const whole = await run(`${GH}/tree/main`, [], ['sh', '-c', 'ls -A; cat apps/web/nested/deep/file.txt']);
    expect(whole.text).toMatch(/README\.md\s+apps/);
    expect(whole.text).not.toMatch(/^\.git$/m);
    expect(whole.text).toContain('second version');
    const byId = await run(`${GH}/tree/${repo.commits.first}/apps/web`);
    expect(byId.text).toContain('deep: first version');
    expect(byId.exitCode).toBe(0);
  });

  it.each([
    [`${GH}/blob/main/README.md`, `${GH}/blob/main/README.md points at a single file; use a /tree/ URL for a folder`],
    [`${GH}/tree/no-such-branch/apps`, 'no branch or tag in the repository matches the start of "no-such-branch/apps"'],
    [`${GH}/tree/main/apps/nope`, 'folder "apps/nope" does not exist in main'],
    [`${GH}/tree/evil/apps/web`, 'symlink "escape" points outside the code directory (../../..)'],
    ['https://github.com/owner/missing/tree/main', 'git could not fetch https://github.com/owner/missing/tree/main: '],
  ])('%s fails the fetch (exit 3)', async (url, message) => {
    const out = await run(url);
    expect(out.text).toContain(`✖ fetch failed: ${message}`);
    expect(out.exitCode).toBe(3);
    expect(out.status).toMatchObject({ state: 'failed', failure: { phase: 'fetching' } });
  });
});

describe('git repositories', () => {
  it('fetches the default branch, a #branch, a #tag and a #commit', async () => {
    const base = `${server.url}/owner/repo.git`;
    const show = ['sh', '-c', 'cat apps/web/nested/deep/file.txt; ls apps/web'];
    const main = await run(base, [], show);
    expect(main.text).toContain(`fetched default branch at ${repo.commits.main.slice(0, 12)}`);
    expect(main.text).toContain('second version');
    const feature = await run(`${base}#feature/deep/branch`, [], show);
    expect(feature.text).toContain('feature.txt');
    const tag = await run(`${base}#release/2.0`, [], show);
    expect(tag.text).toContain(`fetched release/2.0 at ${repo.commits.first.slice(0, 12)}`);
    const commit = await run(`${base}#${repo.commits.first}`, [], show);
    expect(commit.text).toContain('first version');
    for (const out of [main, feature, tag, commit]) expect(out.exitCode).toBe(0);
  });

  it('pins a commit: the code is that commit, checked after the fetch', async () => {
    const out = await run(`${GH}/tree/main/apps/web`, ['--commit', repo.commits.first]);
    expect(out.text).toContain(`▸ verifying commit ${repo.commits.first}`);
    expect(out.text).toContain('commit matches');
    expect(out.text).toContain('deep: first version');
    expect(out.exitCode).toBe(0);
  });

  it('fails when the pinned commit is not in the repository, or a checksum is given for git', async () => {
    const unknown = await run(`${GH}/tree/main/apps/web`, ['--commit', 'f'.repeat(40)]);
    expect(unknown.text).toMatch(/✖ fetch failed: git could not fetch https:\/\/github\.com\/owner\/repo\/tree\/main\/apps\/web: /);
    expect(unknown.exitCode).toBe(3);
    const checksum = await run(`${GH}/tree/main/apps/web`, ['--checksum', 'a'.repeat(64)]);
    expect(checksum.text).toContain('✖ fetch failed: a SHA-256 checksum applies to archives; pin a git repository with --commit (CODE_COMMIT)');
    expect(checksum.exitCode).toBe(3);
  });

  it('stops a repository larger than --max-download-bytes', async () => {
    const out = await run(`${GH}/tree/main`, ['--max-download-bytes', String(1 << 20)]);
    expect(out.text).toContain('✖ fetch failed: the repository download exceeded 1.0 MiB (limit --max-download-bytes)');
    expect(out.exitCode).toBe(3);
  });

  it('refuses a plain-http git server unless http is allowed', async () => {
    const out = await runCodeSession(['--code-url', `${server.url}/owner/repo.git`, '--', 'true']);
    expect(out.text).toContain('is plain http; only https is allowed (--allow-http)');
    expect(out.exitCode).toBe(3);
  });
});
