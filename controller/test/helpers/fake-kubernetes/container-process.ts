import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** Every process of a fake container carries this variable, as a real container's processes share a cgroup. */
const CONTAINER_ID_VARIABLE = 'FAKE_KUBELET_CONTAINER_ID';
const LOG_LIMIT = 256 * 1024;

export interface ContainerExit {
  /** The container's exit code: the process's, or 128 + signal number. */
  exitCode: number;
}

/**
 * One container's process tree. `stop` is what a runtime does on pod deletion (SIGTERM to the main process,
 * SIGKILL to everything left after the grace period); `kill` is the OOM killer or a forced stop.
 */
export class ContainerProcess {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  private readonly proc: ChildProcess;
  private output = '';

  constructor(command: string[], options: { env: Record<string, string>; cwd: string }) {
    this.proc = spawn(command[0]!, command.slice(1), {
      env: { ...options.env, [CONTAINER_ID_VARIABLE]: this.id },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-LOG_LIMIT));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (err) => {
        this.output += `\n${err.message}`;
        resolve({ exitCode: 128 });
      });
      this.proc.on('exit', (code, signal) => {
        // Whatever the main process left behind dies with the container.
        this.signalAll('SIGKILL');
        resolve({ exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0) });
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Like `kubectl logs`: stdout and stderr, the last 256 KiB. */
  get logs(): string {
    return this.output;
  }

  /** Pids of every live process in the container (the main one, the command, anything they started). */
  pids(): number[] {
    const marker = `${CONTAINER_ID_VARIABLE}=${this.id}`;
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) found.push(Number(entry));
      } catch {
        // gone, or not ours
      }
    }
    return found;
  }

  async stop(graceMs: number): Promise<ContainerExit> {
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.signalAll('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  async kill(): Promise<ContainerExit> {
    this.signalAll('SIGKILL');
    return this.exited;
  }

  private signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }
}
