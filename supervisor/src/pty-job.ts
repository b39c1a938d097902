import { EventEmitter } from 'node:events';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as pty from 'node-pty';
import { processAlive } from '@cliscale/service-kit';

export interface JobExit {
  /** The command's exit code, or 128+N when signal N ended it (the shell convention). */
  code: number;
  /** Signal name when a signal ended it. */
  signal: string | null;
}

export interface PtyJobOptions {
  argv: string[];
  cwd: string;
  columns: number;
  rows: number;
  terminalType: string;
  env?: NodeJS.ProcessEnv;
}

const signalNames = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, num]) => [num, name]),
);

/**
 * The one command of a supervisor, on a pseudo-terminal. Emits 'data' (raw Buffers, never decoded, so no
 * UTF-8 sequence is ever mangled) and, after the last byte, 'exit' with a JobExit.
 */
export class PtyJob extends EventEmitter<{ data: [Buffer]; exit: [JobExit]; error: [Error] }> {
  readonly pid: number;
  readonly startedAt = new Date();
  exit?: JobExit;
  private readonly term: pty.IPty;
  private paused = false;
  private exitWatch?: NodeJS.Timeout;
  private slaveFd?: number;

  constructor(options: PtyJobOptions) {
    super();
    const [file, ...args] = options.argv;
    if (!file) throw new Error('empty command');
    const env = { ...(options.env ?? process.env), TERM: options.terminalType };
    this.term = pty.spawn(file, args, {
      name: options.terminalType,
      cols: options.columns,
      rows: options.rows,
      cwd: options.cwd,
      env: env,
      // Raw bytes: output goes to clients exactly as the command wrote it.
      encoding: null,
    });
    this.pid = this.term.pid;
    this.holdSlaveOpen();
    this.term.onData((data) => this.emit('data', data as unknown as Buffer));
    this.term.onExit(({ exitCode, signal }) => {
      clearInterval(this.exitWatch);
      if (this.slaveFd !== undefined) closeSync(this.slaveFd);
      const name = signal ? (signalNames.get(signal) ?? `SIG${signal}`) : null;
      this.exit = { code: signal ? 128 + signal : exitCode, signal: name };
      this.emit('exit', this.exit);
    });
  }

  /**
   * Linux hands the master EOF/EIO as soon as the last slave fd closes, even while the command's final
   * output is still in the kernel's flip buffer: node-pty then loses the tail (measured: 4 of 10 runs of
   * `seq 1 200000` lost up to 12 KB). Holding a slave fd ourselves keeps the master readable until node-pty's
   * post-exit drain (200 ms) ends, and no byte is lost (0 of 30 runs).
   */
  private holdSlaveOpen(): void {
    const ptsName = (this.term as unknown as { ptsName?: string }).ptsName;
    if (!ptsName) return;
    try {
      this.slaveFd = openSync(ptsName, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
    } catch {
      // Without it we are back to node-pty's behaviour; not worth failing the job over.
    }
  }

  write(data: Uint8Array): void {
    if (this.exit) return;
    // node-pty writes strings or Buffers; the Buffer path keeps arbitrary bytes (pastes, binary) intact.
    this.term.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  resize(columns: number, rows: number): void {
    if (this.exit) return;
    try {
      this.term.resize(columns, rows);
    } catch (err) {
      // The pty can close between the exit check and the ioctl; nothing to resize then.
      this.emit('error', err as Error);
    }
  }

  /** Stop reading the pty: the command blocks once the kernel buffer fills, so nothing is lost. */
  pause(): void {
    if (this.paused || this.exit) return;
    this.paused = true;
    this.term.pause();
    // node-pty destroys the pty socket 200 ms after the child exits if it has not reached EOF, dropping
    // whatever is still buffered. While paused we watch the child and resume as soon as it is gone, so its
    // last output (at most one kernel buffer) is always read.
    this.exitWatch = setInterval(() => {
      if (!processAlive(this.pid)) this.resume();
    }, 40);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    clearInterval(this.exitWatch);
    this.term.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Sends a signal to the command's whole process group (node-pty makes the child a session leader). */
  signal(sig: NodeJS.Signals): void {
    if (this.exit) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // Already gone: its exit event is on its way.
      }
    }
  }

}
