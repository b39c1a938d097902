import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSupervisor, stopAllSupervisors, type SupervisorProcess } from '@cliscale/test-kit/supervisor-process';
import { describeInBrowser, useBrowser, type TerminalPage } from '@cliscale/test-kit/browser';
import { duplicateLines, expectSameBuffer } from './helpers/compare.js';
import { DropProxy } from './helpers/drop-proxy.js';

declare global {
  interface Window {
    __replaySeen?: { reset: boolean; full: boolean };
  }
}

/** 3000 numbered lines in 7 colours, a progress counter redrawn in place with \r, then idle. */
const NUMBERED_LINES =
  'for i in $(seq 1 3000); do printf "\\e[3%dmline %d\\e[0m\\n" $((i%7+1)) $i; done; ' +
  'for p in $(seq 0 10 100); do printf "\\rprogress %3d%%" $p; done; printf "\\nall printed\\n"; sleep 600';

describeInBrowser('web terminal: reconnect and replay', () => {
  const browser = useBrowser();
  const proxies: DropProxy[] = [];
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cliscale-web-reconnect-'));
  });
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.close();
    await stopAllSupervisors();
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  async function openThroughProxy(command: string[], args: string[] = []): Promise<{ sup: SupervisorProcess; proxy: DropProxy; page: TerminalPage }> {
    const sup = await startSupervisor([...args, '--', ...command]);
    const proxy = await DropProxy.start(sup.port);
    proxies.push(proxy);
    const page = await browser.open(proxy.baseUrl);
    return { sup, proxy, page };
  }

  it('after a server-side drop, reconnects and holds exactly the supervisor buffer (3000 coloured lines)', async () => {
    const loadStart = Date.now();
    const { sup, proxy, page } = await openThroughProxy(['bash', '-c', NUMBERED_LINES]);
    await page.waitForText('all printed', 30_000);
    console.log(`first load: supervisor start, page load and 3000 lines shown in ${Date.now() - loadStart} ms`);
    const before = await expectSameBuffer(page, sup);
    expect(before.filter((l) => /^line \d+$/.test(l))).toHaveLength(3000);
    await page.screenshot('reconnect-1-before-drop');

    expect(proxy.dropAll()).toBe(1);
    const dropped = Date.now();
    await page.waitForState('reconnecting', 5_000);
    await page.screenshot('reconnect-2-reconnecting');
    await page.waitForOpens(2, 15_000);
    const reconnectMs = Date.now() - dropped;
    const after = await expectSameBuffer(page, sup);
    const replayMs = Date.now() - dropped - reconnectMs;
    console.log(`reconnect after a drop: live again in ${reconnectMs} ms, then the 3000-line replay equal to the server's ${replayMs} ms later`);
    expect(after).toEqual(before);
    expect(duplicateLines(after)).toEqual([]);
    expect(page.errors).toEqual([]);
    await page.screenshot('reconnect-3-after-replay');
  });

  it('a history longer than the scrollback: after a drop the page holds the same last 100,000 lines as the server', async () => {
    const { sup, proxy, page } = await openThroughProxy(['bash', '-c', 'seq 1 120000; echo seq-done; sleep 600']);
    await page.waitForText('seq-done', 60_000);
    await expectSameBuffer(page, sup, 30_000);
    // The replay starts with a reset and the screen alone (a few dozen lines), then the complete history.
    await page.page.evaluate(() => {
      const term = window.__cliscale!.term;
      const seen = { reset: false, full: false };
      window.__replaySeen = seen;
      // Resets (ESC c) are seen while parsing; onWriteParsed fires at most once per frame, after parsing.
      term.parser.registerEscHandler({ final: 'c' }, () => {
        seen.reset = true;
        return false; // and let xterm reset
      });
      term.onWriteParsed(() => {
        if (seen.reset && term.buffer.active.length >= 100_000) seen.full = true;
      });
    });
    proxy.dropAll();
    const dropped = Date.now();
    await page.waitForOpens(2, 15_000);
    const liveMs = Date.now() - dropped;
    await page.page.waitForFunction(() => window.__replaySeen!.full, undefined, { timeout: 30_000, polling: 20 });
    const replayMs = Date.now() - dropped - liveMs;
    const lines = await expectSameBuffer(page, sup, 30_000);
    console.log(`120,000-line history: live again ${liveMs} ms after the drop; the full 100,000-line replay parsed ${replayMs} ms later`);
    expect(lines.length).toBeGreaterThanOrEqual(100_000);
    expect(lines[0]).toBe(String(120_000 - lines.length + 2));
    expect(duplicateLines(lines)).toEqual([]);
  });

  it('10 forced reconnects in a row while output flows leave no duplicate and no missing line', async () => {
    const stopFile = join(scratch, 'stop-ticking');
    const ticker =
      `i=0; while [ ! -e ${stopFile} ]; do i=$((i+1)); printf "\\e[3%dmtick %d\\e[0m\\n" $((i%7+1)) $i; sleep 0.02; done; ` +
      'echo "stopped after $i"; sleep 600';
    const { sup, proxy, page } = await openThroughProxy(['bash', '-c', ticker]);
    await page.waitForText('tick 5');
    const timings: number[] = [];
    for (let n = 2; n <= 11; n++) {
      const t0 = Date.now();
      expect(proxy.dropAll()).toBe(1);
      await page.waitForOpens(n, 15_000);
      timings.push(Date.now() - t0);
    }
    console.log(`10 forced reconnects, ms until live again: ${timings.join(', ')}`);
    await writeFile(stopFile, '');
    await page.waitForText(/stopped after \d+/, 15_000);
    const lines = await expectSameBuffer(page, sup);
    const last = Number(/stopped after (\d+)/.exec(lines.join('\n'))![1]);
    const ticks = lines.filter((l) => l.startsWith('tick ')).map((l) => Number(l.slice(5)));
    expect(ticks).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(duplicateLines(lines)).toEqual([]);
    expect(await page.opens()).toBe(11);
    await page.screenshot('reconnect-10-times');
  });

  it('keeps retrying with backoff while upgrades are refused, and retries at once when the network or the tab comes back', async () => {
    const { proxy, page } = await openThroughProxy(['bash', '-c', 'echo ready; sleep 600']);
    await page.waitForText('ready');

    /** Refuses upgrades and drops the socket, then waits until the page sits in a backoff of 2 s or more. */
    const refuseUntilLongBackoff = async (): Promise<void> => {
      proxy.refuseUpgrades = 503;
      proxy.dropAll();
      // Retries wait 0.25-0.5 s, 0.5-1 s, 1-2 s, then 2-4 s.
      await page.page.waitForFunction(() => {
        const s = window.__cliscale!.state();
        return s.kind === 'reconnecting' && s.delayMs >= 2000;
      }, undefined, { timeout: 20_000, polling: 20 });
    };

    await refuseUntilLongBackoff();
    expect(await page.state()).toMatchObject({ kind: 'reconnecting', attempt: 4, reason: 'server unreachable' });
    expect(await page.statusText()).toMatch(/^reconnecting… \(server unreachable; retry 4 in [234] s\)$/);
    expect(proxy.refused).toBe(3);
    await page.screenshot('reconnect-refused');
    proxy.refuseUpgrades = undefined;
    const t0 = Date.now();
    await page.page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForState('live', 5_000);
    const onlineMs = Date.now() - t0;
    console.log(`"online" during a 2-4 s backoff: live again in ${onlineMs} ms`);
    // Well before the 2 s or more the backoff would have waited.
    expect(onlineMs).toBeLessThan(1500);
    await page.waitForText('ready');

    await refuseUntilLongBackoff();
    proxy.refuseUpgrades = undefined;
    const t1 = Date.now();
    await page.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await page.waitForState('live', 5_000);
    const visibleMs = Date.now() - t1;
    console.log(`"visibilitychange" during a 2-4 s backoff: live again in ${visibleMs} ms`);
    expect(visibleMs).toBeLessThan(1500);
    expect(page.errors).toEqual([]);
  });
});
