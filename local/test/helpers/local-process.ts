import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** After a SIGKILL, its supervisors may still be writing into the folder while they stop: retry ENOTEMPTY. */
const RM_OPTIONS = { recursive: true, force: true, maxRetries: 20, retryDelay: 100 } as const;

export const LOCAL_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** `npm start` as a user runs it (the built local/dist/main.js), in a fresh data directory, on a free port. */
export class LocalProcess {
  stdout = '';
  stderr = '';
  url = '';
  apiKey = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly proc: ChildProcess, readonly dataDir: string) {
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    proc.stdout!.on('data', (d) => (this.stdout += d));
    proc.stderr!.on('data', (d) => (this.stderr += d));
  }

  static async start(env: Record<string, string> = {}): Promise<LocalProcess> {
    // The folder name is what .ci/run looks for to find a PostgreSQL left behind.
    const dataDir = await mkdtemp(join(tmpdir(), 'cliscale-test-local-'));
    // mkdtemp makes it 0700; as root, PostgreSQL (run as "postgres") must be able to pass through it.
    await chmod(dataDir, 0o711);
    const proc = spawn(process.execPath, [LOCAL_MAIN, '--port', '0', '--data-dir', join(dataDir, 'data')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const local = new LocalProcess(proc, dataDir);
    await new Promise<void>((resolve, reject) => {
      void local.exited.then(() => rm(dataDir, RM_OPTIONS).catch(() => undefined));
      const check = () => {
        const running = /cliscale is running at (http:\/\/\S+)/.exec(local.stdout);
        const key = /API key: (\S+)/.exec(local.stdout);
        if (running && key) {
          local.url = running[1]!;
          local.apiKey = key[1]!;
          resolve();
        }
      };
      proc.stdout.on('data', check);
      void local.exited.then((e) => reject(new Error(`local mode exited (${e.code}): ${local.stdout}${local.stderr}`)));
    });
    return local;
  }

  api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.apiKey}`);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${this.url}${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  }

  /** Ctrl+C, as a person would; SIGKILL only if it does not stop within 20 s. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    const result = await this.exited;
    clearTimeout(timer);
    await rm(this.dataDir, RM_OPTIONS);
    return result;
  }
}
