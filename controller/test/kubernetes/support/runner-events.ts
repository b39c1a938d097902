import { randomUUID } from 'node:crypto';
import type { RunnerEvent, RunnerSpec, RunnerState } from '../../../src/runners/runner-backend.js';

/** Collects a backend's events and waits for the ones a test expects. */
export class RunnerEventLog {
  readonly events: RunnerEvent[] = [];
  private waiters: Array<() => void> = [];

  readonly listener = (event: RunnerEvent): void => {
    this.events.push(event);
    for (const wake of this.waiters.splice(0)) wake();
  };

  of(sessionId: string): RunnerEvent[] {
    return this.events.filter((e) => e.sessionId === sessionId);
  }

  /** The session's states in order, repeats collapsed: ['starting', 'running', 'succeeded']. */
  states(sessionId: string): RunnerState[] {
    return this.of(sessionId)
      .map((e) => e.state)
      .filter((state, i, all) => i === 0 || all[i - 1] !== state);
  }

  /** The first event of the session in `state`, waiting for it if needed. */
  async waitFor(sessionId: string, state: RunnerState, timeoutMs = 20_000): Promise<RunnerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.of(sessionId).find((e) => e.state === state);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${state}' event for ${sessionId} within ${timeoutMs} ms; got ${JSON.stringify(this.of(sessionId))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** A session running `command` with /bin/sh -c in the supervisor, no code URL. */
export function commandSession(command: string, options: { deadlineSeconds?: number; env?: Record<string, string> } = {}): RunnerSpec {
  return {
    sessionId: randomUUID(),
    env: { COMMAND: command, INSTALL_CMD: '', ...options.env },
    deadlineSeconds: options.deadlineSeconds ?? 60,
  };
}
