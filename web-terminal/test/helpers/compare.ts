import { expect } from '@jest/globals';
import type { SupervisorProcess } from '@cliscale/test-kit/supervisor-process';
import { supervisorScreen } from '@cliscale/test-kit/tty-client';
import { trimTrailingBlank, type TerminalPage } from '@cliscale/test-kit/browser';

/**
 * The browser's buffer must equal the supervisor's headless buffer line for line (scrollback included;
 * trailing blank lines dropped on both sides). A replay arrives in steps (screen first, then the complete
 * history), so this polls until both are equal, and fails with a diff if they never are.
 */
export async function expectSameBuffer(page: TerminalPage, sup: SupervisorProcess, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [browserLines, server] = await Promise.all([page.bufferLines(), supervisorScreen(sup.baseUrl, 1_000_000)]);
    const mine = trimTrailingBlank(browserLines);
    const theirs = trimTrailingBlank(server.lines);
    if (mine.length === theirs.length && mine.every((l, i) => l === theirs[i])) return mine;
    if (Date.now() > deadline) expect(mine).toEqual(theirs);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Non-blank lines that occur more than once. */
export function duplicateLines(lines: string[]): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const l of lines) {
    if (l === '') continue;
    if (seen.has(l)) dups.push(l);
    seen.add(l);
  }
  return dups;
}
