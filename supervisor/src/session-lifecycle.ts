import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import type { SupervisorConfig } from './config.js';
import { findExecutable } from './find-executable.js';
import { defaultInstallCommand } from './prepare/install-command.js';
import { PREPARATION_EXIT_CODES, signalExitCode, type FailingPhase } from '@cliscale/runner-contract';
import { PhaseError, PreparationCancelled } from './prepare/phase-error.js';
import { prepareCode } from './prepare/prepare-code.js';
import { cancelledLine, infoLine, phaseLine } from './prepare/terminal-lines.js';
import type { PtyJob } from './pty-job.js';
import type { TerminalSession } from './terminal-session.js';

function waitForExit(job: PtyJob): Promise<{ code: number; signal: string | null }> {
  return new Promise((resolve) => (job.exit ? resolve(job.exit) : job.once('exit', resolve)));
}

/** Runs the install command on the session's terminal, bounded by --install-timeout. */
async function install(session: TerminalSession, config: SupervisorConfig, codeDir: string, cancel: AbortSignal): Promise<void> {
  const command = config.code.installCommand ?? defaultInstallCommand(codeDir);
  if (!command) {
    session.print(phaseLine('installing', config.code.installCommand === '' ? 'skipped (empty install command)' : 'nothing to install (no package.json)'));
    return;
  }
  session.phase = 'installing';
  session.print(phaseLine('installing', command));
  const started = Date.now();
  // Like COMMAND, a shell program by design: handed to sh as one argument, never spliced into a string.
  const job = session.runJob(['/bin/sh', '-c', command], codeDir);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    job.signal('SIGTERM');
    setTimeout(() => job.signal('SIGKILL'), config.killAfterMs).unref();
  }, config.code.installTimeoutMs);
  const exit = await waitForExit(job).finally(() => clearTimeout(timer));
  if (cancel.aborted) throw cancel.reason;
  if (timedOut) throw new PhaseError('installing', `"${command}" took longer than ${config.code.installTimeoutMs} ms (limit --install-timeout)`);
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new PhaseError('installing', `"${command}" ${how}`);
  }
  session.print(infoLine(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`));
}

/**
 * Everything between "listening" and the command: fetch and install the code when a code URL is given,
 * then start the command. A failure in any step ends the session with that step's exit code, and the
 * command never starts.
 */
export async function runSessionLifecycle(session: TerminalSession, config: SupervisorConfig, log: Logger, cancel: AbortSignal): Promise<void> {
  const argv = config.command.argv;
  try {
    let cwd = config.cwd;
    if (config.code.url) {
      if (!config.code.dir) throw new Error('no code directory');
      cwd = await prepareCode({
        code: { ...config.code, url: config.code.url, dir: config.code.dir },
        cwd: config.cwd,
        print: (text) => session.print(text),
        setPhase: (phase) => (session.phase = phase),
        log,
        signal: cancel,
      });
      if (cancel.aborted) throw cancel.reason;
      await install(session, config, cwd, cancel);
    }
    session.phase = 'starting';
    if (!findExecutable(argv[0]!, cwd)) throw new PhaseError('starting', `command not found: ${argv[0]}`);
    if (config.code.url) session.print(phaseLine('starting', config.command.display));
    if (cancel.aborted) throw cancel.reason;
    session.startCommand(argv, cwd);
  } catch (err) {
    if (err instanceof PreparationCancelled) {
      session.print(cancelledLine(err.signal));
      session.end({ code: signalExitCode(osConstants.signals[err.signal]), signal: err.signal });
    } else if (err instanceof PhaseError) {
      session.fail(err.phase, err.message, err.exitCode);
    } else {
      const phase = (session.phase in PREPARATION_EXIT_CODES ? session.phase : 'fetching') as FailingPhase;
      log.error({ err }, 'unexpected preparation failure');
      session.fail(phase, `unexpected error: ${(err as Error).message}`, PREPARATION_EXIT_CODES[phase]);
    }
  }
}
