import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The supervisor's command (built by `npm run build`). A process the tests start, not code they import:
 * SUPERVISOR_BIN points elsewhere (an installed `cliscale-supervisor`).
 */
export const SUPERVISOR_BIN = process.env.SUPERVISOR_BIN ?? fileURLToPath(new URL('../../supervisor/bin/cliscale-supervisor.js', import.meta.url));

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real supervisor process on a loopback port chosen by the OS. */
export class SupervisorProcess {
  readonly exited: Promise<ProcessExit>;
  stderr = '';
  stdout = '';
  port = 0;
  private exit?: ProcessExit;

  constructor(readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  async status(): Promise<{ pid: number; state: string; exitCode: number | null; clients: number; bytesOut: number; columns: number; rows: number }> {
    const res = await fetch(`${this.baseUrl}/status`);
    return (await res.json()) as never;
  }

  /** The last `lines` lines of its log, for a failure message that says where the supervisor stood. */
  logTail(lines: number): string {
    return this.stderr.trim().split('\n').slice(-lines).join('\n');
  }

  /** Command lines of the processes below the supervisor (its command and theirs), read from /proc. */
  descendantCommands(): string[] {
    const parentOf = new Map<number, number>();
    const commandOf = new Map<number, string>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
        commandOf.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim());
      } catch {
        // exited meanwhile
      }
    }
    const isBelow = (pid: number) => {
      for (let p = parentOf.get(pid); p; p = parentOf.get(p)) if (p === this.proc.pid) return true;
      return false;
    };
    return [...commandOf].filter(([pid]) => isBelow(pid)).map(([, command]) => command);
  }

  /** Resident memory of the supervisor process (main thread and terminal-model worker), in bytes. */
  rss(): number {
    const text = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0);
    return kb * 1024;
  }

  /**
   * SIGTERM (forwarded to the command), a second SIGTERM (the supervisor SIGKILLs the command), then SIGKILL
   * for the supervisor and its command's process group if they still do not go.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    let commandPid: number | undefined;
    try {
      commandPid = (await this.status()).pid;
    } catch {
      // not listening (yet or any more)
    }
    this.proc.kill('SIGTERM');
    const again = setTimeout(() => this.proc.kill('SIGTERM'), 300);
    const timer = setTimeout(() => {
      this.proc.kill('SIGKILL');
      if (commandPid) {
        try {
          process.kill(-commandPid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }, 3000);
    await this.exited;
    clearTimeout(again);
    clearTimeout(timer);
  }
}

const started = new Set<SupervisorProcess>();

/** Starts `cliscale-supervisor ARGS` and resolves once it listens. */
export async function startSupervisor(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; waitForListen?: boolean; stdinPipe?: boolean } = {},
): Promise<SupervisorProcess> {
  const proc = spawn(process.execPath, [SUPERVISOR_BIN, '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const sup = new SupervisorProcess(proc);
  started.add(sup);
  void sup.exited.then(() => started.delete(sup));
  if (options.waitForListen === false) return sup;
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      const line = sup.stderr.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (!line) return;
      sup.port = (JSON.parse(line) as { port: number }).port;
      proc.stderr!.off('data', onData);
      resolve();
    };
    proc.stderr!.on('data', onData);
    void sup.exited.then((e) => reject(new Error(`supervisor exited before listening (${e.code}): ${sup.stderr}`)));
  });
  return sup;
}

/** For afterEach/afterAll: no supervisor (or command) outlives a test. */
export async function stopAllSupervisors(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop()));
}
