import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { parseReadySignal, runnerEnvironment, TERMINATION_MESSAGE_READ_BYTES, terminationReason } from '@cliscale/runner-contract';
import { RunnerUnavailableError, type RunnerBackend, type RunnerEvent, type RunnerEventListener, type RunnerSnapshot, type RunnerSpec } from '../runner-backend.js';

export interface LocalRunnerOptions {
  /** Session folders go under `<dataDir>/sessions/<id>/` (code, supervisor.log). */
  dataDir: string;
  /** The supervisor's bin script (local mode passes the installed @cliscale/supervisor's). */
  supervisorBin: string;
  logger: Logger;
  /** After SIGTERM, SIGKILL a supervisor still running this much later. */
  killAfterMs?: number;
}

/** Variables of the controller's own environment a local job may see; everything else (API keys, database URL) stays out. */
const INHERITED_ENV = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TMPDIR|SHELL|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS)$/;

interface LocalRunner {
  child: ChildProcess;
  state: RunnerEvent;
  createdAt: Date;
  stopReason?: 'cancelled' | 'expired';
  deadline: NodeJS.Timeout;
  exited: Promise<void>;
}

/** The file descriptor of the child's ready signal (its stdio[3]). */
const READY_FD = 3;
const MAX_READY_LINE = 1024;

/** The start of a file (as much as Kubernetes keeps of a termination message), or undefined. */
async function readHead(path: string): Promise<string | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const buffer = Buffer.alloc(TERMINATION_MESSAGE_READ_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

/**
 * Local mode's runner: the supervisor as a child process on a free loopback port, with the same
 * environment contract as a runner pod. The port is the one the supervisor reports in its ready signal.
 */
export function createLocalRunner(o: LocalRunnerOptions): RunnerBackend {
  const runners = new Map<string, LocalRunner>();
  const bin = o.supervisorBin;
  const killAfterMs = o.killAfterMs ?? 10_000;
  let listener: RunnerEventListener = () => {};

  const emit = (runner: LocalRunner, event: Omit<RunnerEvent, 'sessionId' | 'runnerName'>) => {
    runner.state = { ...runner.state, ...event };
    listener(runner.state);
  };

  const stop = (runner: LocalRunner, reason: 'cancelled' | 'expired') => {
    if (runner.child.exitCode !== null || runner.child.signalCode !== null) return runner.exited;
    runner.stopReason ??= reason;
    runner.child.kill('SIGTERM');
    const force = setTimeout(() => runner.child.kill('SIGKILL'), killAfterMs);
    return runner.exited.finally(() => clearTimeout(force));
  };

  return {
    kind: 'local',

    async start(onEvent) {
      listener = onEvent;
    },

    async launch(spec: RunnerSpec) {
      const runnerName = `supervisor-${spec.sessionId.slice(0, 8)}`;
      if (runners.has(spec.sessionId)) return { runnerName };
      const dir = resolve(o.dataDir, 'sessions', spec.sessionId);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const inherited = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => INHERITED_ENV.test(e[0]) && e[1] !== undefined));
      const messageFile = join(dir, 'termination-message');
      const env = runnerEnvironment(
        {
          port: 0,
          host: '127.0.0.1',
          exitOnJob: true,
          writable: true,
          codeDir: join(dir, 'code'),
          terminationMessagePath: messageFile,
          // Its stdin is a pipe from this process: if the controller is killed outright, the supervisor and its
          // command stop instead of running on unowned.
          exitWithStdin: true,
          readyFd: READY_FD,
        },
        { ...inherited, ...spec.env },
      );
      let child: ChildProcess;
      try {
        child = spawn(process.execPath, [bin], { env, cwd: dir, stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
      } catch (err) {
        throw new RunnerUnavailableError(`could not start the supervisor: ${(err as Error).message}`);
      }
      child.stdin!.on('error', () => {}); // never written to; only its closing matters
      const log = createWriteStream(join(dir, 'supervisor.log'), { mode: 0o600 });
      const runner: LocalRunner = {
        child,
        createdAt: new Date(),
        state: { sessionId: spec.sessionId, runnerName, state: 'starting' },
        deadline: setTimeout(() => void stop(runner, 'expired'), spec.deadlineSeconds * 1000),
        exited: new Promise((done) => child.once('close', () => done())),
      };
      runners.set(spec.sessionId, runner);

      child.stderr!.pipe(log);
      // The ready signal: one short line. Anything longer, or anything after it, is not read.
      const ready = child.stdio[READY_FD] as Readable;
      let line = '';
      ready.on('error', () => {}); // a child that dies early closes it; its exit is handled below
      ready.on('data', (chunk: Buffer) => {
        line += chunk.toString('utf8');
        const end = line.indexOf('\n');
        if (end < 0 && line.length < MAX_READY_LINE) return;
        ready.destroy();
        const signal = end >= 0 ? parseReadySignal(line.slice(0, end)) : undefined;
        if (signal && runner.state.state === 'starting') emit(runner, { state: 'running', endpoint: { host: '127.0.0.1', port: signal.port } });
        else o.logger.warn({ sessionId: spec.sessionId }, 'the supervisor sent no valid ready signal');
      });
      child.once('error', (err) => o.logger.error({ sessionId: spec.sessionId, err }, 'supervisor process error'));
      void runner.exited.then(async () => {
        clearTimeout(runner.deadline);
        const code = child.exitCode;
        if (runner.stopReason === 'expired') emit(runner, { state: 'expired', reason: 'deadline exceeded' });
        else if (runner.stopReason === 'cancelled') emit(runner, { state: 'cancelled', reason: 'runner stopped' });
        else if (code === 0) emit(runner, { state: 'succeeded', exitCode: 0 });
        else if (code !== null) {
          const reason = terminationReason(await readHead(messageFile));
          emit(runner, { state: 'failed', exitCode: code, ...(reason && { reason }) });
        }
        else emit(runner, { state: 'failed', reason: `the supervisor was killed by ${child.signalCode}` });
        // The code is the session's scratch space; the supervisor's log stays for inspection.
        await rm(join(dir, 'code'), { recursive: true, force: true }).catch(() => {});
        // Kept a while for the reconciler's list(), then forgotten: the row holds the outcome.
        setTimeout(() => runners.delete(spec.sessionId), 60_000).unref();
      });
      listener(runner.state);
      return { runnerName };
    },

    async cancel(sessionId) {
      const runner = runners.get(sessionId);
      if (runner) await stop(runner, 'cancelled');
    },

    async list(): Promise<RunnerSnapshot[]> {
      return [...runners.values()].map((r) => ({ ...r.state, createdAt: r.createdAt }));
    },

    async close() {
      await Promise.all([...runners.values()].map((r) => stop(r, 'cancelled')));
    },
  };
}
