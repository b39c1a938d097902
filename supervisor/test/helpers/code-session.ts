import { startSupervisor, type SupervisorProcess } from '@cliscale/test-kit/supervisor-process';
import { eventually } from '@cliscale/test-kit/eventually';
import { supervisorScreen } from '@cliscale/test-kit/tty-client';

export interface SessionOutcome {
  /** GET /status once the session was over. */
  status: { state: string; phase: string; exitCode: number | null; failure: { phase: string; message: string } | null };
  /** The terminal's text (scrollback and screen), as the supervisor's model holds it. */
  text: string;
  /** The supervisor's own exit code. */
  exitCode: number | null;
  supervisor: SupervisorProcess;
}

/**
 * Runs a supervisor that fetches code, with --no-exit so that its final terminal can be read after the
 * session ended (whenever that is), then stops it and returns its exit code.
 */
export async function runCodeSession(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 45_000): Promise<SessionOutcome> {
  const supervisor = await startSupervisor(['--no-exit', '--size', '500x40', ...args], { env });
  const status = await eventually(
    async () => {
      const now = (await supervisor.status()) as unknown as SessionOutcome['status'];
      return (now.state === 'exited' || now.state === 'failed') && now;
    },
    timeoutMs,
    'the session to end',
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${supervisor.stderr}`, { cause: err });
  });
  const text = (await supervisorScreen(supervisor.baseUrl)).lines.join('\n');
  await supervisor.stop();
  const { code } = await supervisor.exited;
  return { status, text, exitCode: code, supervisor };
}
