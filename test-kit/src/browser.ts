import { afterAll, afterEach, beforeAll, describe } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Terminal } from '@xterm/xterm';

/**
 * What the web terminal exposes as `(window as unknown as HookWindow).__cliscale` (web-terminal/src/debug-hook.ts), as far as tests
 * read it: its xterm, its connection state and how many sockets it opened.
 */
export interface PageHook {
  term: Terminal;
  state(): ConnectionState;
  opens(): number;
}
export interface ConnectionState {
  kind: 'connecting' | 'live' | 'reconnecting' | 'ended';
  [detail: string]: unknown;
}
type HookWindow = { __cliscale?: PageHook };

/** Debian's chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);
/** .ci/run looks for chromium processes with this in their command line: none may outlive the tests. */
export const USER_DATA_DIR_PREFIX = 'cliscale-chromium-';
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `describe`, or `describe.skip` with a clear message when there is no chromium on this machine. */
export function describeInBrowser(name: string, fn: () => void): void {
  if (HAS_CHROMIUM) {
    describe(name, fn);
    return;
  }
  console.log(`web-terminal browser tests SKIPPED: no chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  describe.skip(name, fn);
}

/** One chromium with a fresh profile; `close()` in afterAll ends the process and removes the profile. */
export class BrowserSession {
  launchMs = 0;

  private constructor(
    readonly context: BrowserContext,
    private readonly userDataDir: string,
  ) {}

  static async launch(): Promise<BrowserSession> {
    const userDataDir = await mkdtemp(join(tmpdir(), USER_DATA_DIR_PREFIX));
    const started = Date.now();
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1000, height: 640 },
    });
    const session = new BrowserSession(context, userDataDir);
    session.launchMs = Date.now() - started;
    console.log(`chromium launched in ${session.launchMs} ms`);
    return session;
  }

  async open(url: string, viewport?: { width: number; height: number }): Promise<TerminalPage> {
    const page = await this.context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as HookWindow).__cliscale !== undefined);
    return new TerminalPage(page, errors);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await rm(this.userDataDir, { recursive: true, force: true });
  }
}

export interface BrowserForTests {
  readonly context: BrowserContext;
  open(url: string, viewport?: { width: number; height: number }): Promise<TerminalPage>;
}

/**
 * The hooks every browser test file needs: one chromium for the file, each test's pages closed after it,
 * chromium closed (and its profile removed) at the end. Call inside `describeInBrowser`.
 */
export function useBrowser(): BrowserForTests {
  let session: BrowserSession | undefined;
  const pages: TerminalPage[] = [];
  beforeAll(async () => {
    session = await BrowserSession.launch();
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) await p.close().catch(() => undefined);
  });
  afterAll(async () => {
    await session?.close();
  });
  return {
    get context() {
      return session!.context;
    },
    async open(url, viewport) {
      const page = await session!.open(url, viewport);
      pages.push(page);
      return page;
    },
  };
}

/** The web terminal in a tab: reads its xterm buffer and status through `(window as unknown as HookWindow).__cliscale`. */
export class TerminalPage {
  constructor(
    readonly page: Page,
    /** Uncaught exceptions in the page: tests expect none. */
    readonly errors: string[],
  ) {}

  /** Every line of the active buffer (scrollback, then screen), right-trimmed, after xterm parsed all it got. */
  async bufferLines(): Promise<string[]> {
    return this.page.evaluate(async () => {
      const term = (window as unknown as HookWindow).__cliscale!.term;
      await new Promise<void>((resolve) => term.write('', resolve));
      const buf = term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
      return lines;
    });
  }

  async bufferText(): Promise<string> {
    return (await this.bufferLines()).join('\n');
  }

  /** Waits until the buffer contains `needle` (a string, or a regular expression's source and flags). */
  async waitForText(needle: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const arg = typeof needle === 'string' ? { text: needle } : { source: needle.source, flags: needle.flags };
    try {
      await this.page.waitForFunction(
        (a: { text?: string; source?: string; flags?: string }) => {
          const buf = (window as unknown as HookWindow).__cliscale!.term.buffer.active;
          const lines: string[] = [];
          for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
          const text = lines.join('\n');
          return a.text !== undefined ? text.includes(a.text) : new RegExp(a.source!, a.flags).test(text);
        },
        arg,
        { timeout: timeoutMs, polling: 100 },
      );
    } catch (err) {
      const tail = trimTrailingBlank(await this.bufferLines().catch(() => [] as string[])).slice(-15).join('\n');
      throw new Error(`timed out waiting for ${String(needle)} in the page; last lines:\n${tail}\n(${(err as Error).message})`, { cause: err });
    }
  }

  state(): Promise<ConnectionState> {
    return this.page.evaluate(() => (window as unknown as HookWindow).__cliscale!.state());
  }

  opens(): Promise<number> {
    return this.page.evaluate(() => (window as unknown as HookWindow).__cliscale!.opens());
  }

  async waitForState(kind: ConnectionState['kind'], timeoutMs = 15_000): Promise<void> {
    await this.page.waitForFunction((k) => (window as unknown as HookWindow).__cliscale!.state().kind === k, kind, { timeout: timeoutMs, polling: 50 });
  }

  /** Waits until the page has opened `count` sockets in all and the last one is live. */
  async waitForOpens(count: number, timeoutMs = 15_000): Promise<void> {
    await this.page.waitForFunction(
      (n) => (window as unknown as HookWindow).__cliscale!.opens() >= n && (window as unknown as HookWindow).__cliscale!.state().kind === 'live',
      count,
      { timeout: timeoutMs, polling: 50 },
    );
  }

  statusText(): Promise<string> {
    return this.page.locator('#status .status-state').innerText();
  }

  size(): Promise<{ cols: number; rows: number }> {
    return this.page.evaluate(() => ({ cols: (window as unknown as HookWindow).__cliscale!.term.cols, rows: (window as unknown as HookWindow).__cliscale!.term.rows }));
  }

  /** Types into the terminal as a user would (keyboard events into xterm's textarea). */
  async type(text: string): Promise<void> {
    await this.page.locator('#terminal').click();
    await this.page.keyboard.type(text);
  }

  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const path = join(ARTIFACTS_DIR, `${name}.png`);
    // Let xterm paint what it has parsed.
    await this.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await this.page.screenshot({ path });
    return path;
  }

  close(): Promise<void> {
    return this.page.close();
  }
}

/** Trailing blank lines differ with the screen height and cursor position, not with content: drop them. */
export function trimTrailingBlank(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1] === '') end--;
  return lines.slice(0, end);
}
