import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../src/config.js';
import { connectWithCleanup } from './helpers/cleanup.js';
import { runCodeSession } from './helpers/code-session.js';
import { startSupervisor } from '@cliscale/test-kit/supervisor-process';

const connect = connectWithCleanup();
let scratch: string;
/** npm must not reach the registry from tests (no dependencies are installed, audit and fund are off). */
const NPM_OFFLINE = { npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function project(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

const PACKAGE = JSON.stringify({ name: 'p', version: '1.0.0', private: true });
const LOCK = JSON.stringify({ name: 'p', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'p', version: '1.0.0' } } });

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'cliscale-install-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const local = (dir: string, extra: string[], command: string[], env: NodeJS.ProcessEnv = {}) =>
  runCodeSession(['--allow-local-code', '--code-url', dir, ...extra, '--', ...command], { ...NPM_OFFLINE, ...env });

describe('install', () => {
  it('runs npm install for a package.json, npm ci with a lockfile, nothing without either', async () => {
    const npmInstall = await local(project('plain', { 'package.json': PACKAGE }), [], ['sh', '-c', 'ls']);
    expect(npmInstall.text).toContain('▸ installing npm install');
    expect(npmInstall.text).toMatch(/installed in [\d.]+ s/);
    expect(npmInstall.text).toMatch(/▸ starting sh -c ls\s+package-lock\.json\s+package\.json/);
    expect(npmInstall.exitCode).toBe(0);

    const npmCi = await local(project('locked', { 'package.json': PACKAGE, 'package-lock.json': LOCK }), [], ['true']);
    expect(npmCi.text).toContain('▸ installing npm ci');
    expect(npmCi.exitCode).toBe(0);

    const none = await local(project('no-node', { 'main.sh': 'echo hi' }), [], ['sh', 'main.sh']);
    expect(none.text).toContain('▸ installing nothing to install (no package.json)');
    expect(none.text).toContain('hi');
  });

  it('copies a local folder without node_modules and .git, and leaves the original untouched', async () => {
    const dir = project('with-junk', { 'a.txt': 'a' });
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    const out = await local(dir, ['--install-cmd', 'echo installed > marker'], ['sh', '-c', 'ls -A | tr "\\n" " "']);
    expect(out.text).toContain('copied 1 files');
    expect(out.text).toContain('a.txt marker');
    expect(existsSync(join(dir, 'marker'))).toBe(false);
  });

  it('shows the install output live and a failure line to a connected client; the command never starts (exit 4)', async () => {
    const dir = project('failing', { 'x.txt': '' });
    const codeDir = join(scratch, 'failing-code');
    const messageFile = join(scratch, 'failing-termination-message');
    const sup = await startSupervisor(
      ['--allow-local-code', '--code-url', dir, '--code-dir', codeDir, '--install-cmd', 'sleep 1; echo "resolving deps"; exit 7', '--', 'touch', 'command-ran'],
      { env: { ...NPM_OFFLINE, TERMINATION_MESSAGE_PATH: messageFile } },
    );
    const client = await connect(sup.wsUrl, { screen: true, init: { columns: 200, rows: 30 } });
    await client.waitForText('resolving deps');
    const closed = await client.closed;
    const screen = (await client.screenDump()).lines.join('\n');
    expect(screen).toContain('▸ installing sleep 1; echo "resolving deps"; exit 7');
    expect(screen).toContain('✖ install failed: "sleep 1; echo "resolving deps"; exit 7" exited with code 7');
    expect(client.exitStatus).toEqual({ exitCode: 4, signal: null });
    expect(closed.code).toBe(1000);
    expect((await sup.exited).code).toBe(4);
    expect(existsSync(join(codeDir, 'command-ran'))).toBe(false);
    // The same words as the terminal's failure line, for the controller's failure reason.
    expect(readFileSync(messageFile, 'utf8')).toBe('install failed: "sleep 1; echo "resolving deps"; exit 7" exited with code 7');
  });

  it('stops an install that outlives --install-timeout (exit 4)', async () => {
    const out = await local(project('slow', {}), ['--install-cmd', 'sleep 30', '--install-timeout', '500', '--kill-after', '500'], ['true']);
    expect(out.text).toContain('✖ install failed: "sleep 30" took longer than 500 ms (limit --install-timeout)');
    expect(out.status).toMatchObject({ state: 'failed', exitCode: 4, failure: { phase: 'installing' } });
    expect(out.exitCode).toBe(4);
  });

  it('reports a command missing from the code (exit 127) and refuses local code without the flag (exit 3)', async () => {
    const missing = await local(project('no-cmd', {}), ['--install-cmd', ''], ['./not-here.sh']);
    expect(missing.text).toContain('✖ start failed: command not found: ./not-here.sh');
    expect(missing.exitCode).toBe(127);

    const refused = await runCodeSession(['--code-url', join(scratch, 'no-cmd'), '--', 'true']);
    expect(refused.text).toContain(`✖ fetch failed: local code (${join(scratch, 'no-cmd')}) is only allowed with --allow-local-code`);
    expect(refused.exitCode).toBe(3);
  });

  it('a signal during install stops it and the supervisor exits 128+N', async () => {
    const messageFile = join(scratch, 'cancel-termination-message');
    const sup = await startSupervisor([
      '--allow-local-code', '--code-url', project('cancel', {}), '--install-cmd', 'echo waiting; sleep 30', '--termination-message-path', messageFile, '--', 'true',
    ]);
    const client = await connect(sup.wsUrl, { screen: true });
    await client.waitForText('waiting');
    sup.proc.kill('SIGTERM');
    await client.closed;
    expect((await client.screenDump()).lines).toContain('✖ cancelled by SIGTERM');
    expect((await sup.exited).code).toBe(143);
    expect(readFileSync(messageFile, 'utf8')).toBe('cancelled by SIGTERM before the command started');
  });
});

describe('code options', () => {
  it('reads the env contract, tells an empty INSTALL_CMD from none, and validates', () => {
    const c = parseConfig([], { COMMAND: 'npm start', CODE_URL: 'https://github.com/o/r/tree/main/x', INSTALL_CMD: '', CODE_CHECKSUM_SHA256: 'AB'.repeat(32) });
    expect(c.code).toMatchObject({ url: 'https://github.com/o/r/tree/main/x', installCommand: '', checksumSha256: 'ab'.repeat(32), allowHttp: false, allowLocal: false });
    expect(parseConfig([], { COMMAND: 'x', CODE_URL: 'https://a/b.zip' }).code.installCommand).toBeUndefined();
    expect(() => parseConfig([], { COMMAND: 'x', CODE_CHECKSUM_SHA256: 'abc' })).toThrow(new ConfigError('CODE_CHECKSUM_SHA256: expected a SHA-256 (64 hex digits)'));
    expect(() => parseConfig(['--max-files', '0', '--', 'x'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--code-url', 'https://a/b.zip', '--cwd', '/tmp', '--', 'x'], {})).toThrow(/exclude each other/);
    const nonEmpty = project('occupied', { 'f': '' });
    expect(() => parseConfig(['--code-dir', nonEmpty, '--', 'x'], {})).toThrow(/is not empty/);
    expect(readFileSync(join(nonEmpty, 'f'), 'utf8')).toBe('');
  });
});
