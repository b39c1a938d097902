import { afterEach, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSupervisor, stopAllSupervisors } from '@cliscale/test-kit/supervisor-process';
import { describeInBrowser, useBrowser } from '@cliscale/test-kit/browser';

const PHONE = { width: 390, height: 700 };

describeInBrowser('web terminal input: phone key row, clipboard, links', () => {
  const browser = useBrowser();
  const open = (url: string, viewport?: { width: number; height: number }) => browser.open(url, viewport);
  afterEach(stopAllSupervisors);

  it('shows Esc, Tab, Ctrl and arrows on a phone-sized viewport, and they send the right bytes', async () => {
    // Raw mode without echo: cat -vT shows exactly the bytes it receives (^[ for ESC, ^I for Tab, ^C for 0x03).
    const sup = await startSupervisor(['-W', '--', 'bash', '-c', 'stty raw -echo; echo ready; exec cat -vT']);
    const page = await open(`${sup.baseUrl}/`, PHONE);
    await page.waitForText('ready');
    const keys = page.page.locator('#keys');
    expect(await keys.isVisible()).toBe(true);
    expect(await keys.locator('button').allInnerTexts()).toEqual(['Esc', 'Tab', 'Ctrl', '←', '↑', '↓', '→']);
    const button = (label: string) => keys.locator('button', { hasText: label }).first();
    for (const label of ['Esc', 'Tab', '↑', '↓', '→', '←']) await button(label).click();
    // Sticky Ctrl: applies to the next key typed on the keyboard, then releases.
    await button('Ctrl').click();
    expect(await button('Ctrl').getAttribute('aria-pressed')).toBe('true');
    await page.page.keyboard.type('c');
    expect(await button('Ctrl').getAttribute('aria-pressed')).toBe('false');
    await button('Ctrl').click();
    await button('↑').click();
    await page.page.keyboard.type('x');
    await page.waitForText('^[^I^[[A^[[B^[[C^[[D^C^[[1;5Ax');
    // The buttons never took the focus from the terminal (the phone keyboard would close).
    expect(await page.page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea'))).toBe(true);
    const size = await page.size();
    expect(size.cols).toBeGreaterThanOrEqual(30);
    await page.screenshot('input-phone-key-row');
  });

  it('copies the selection with Ctrl+C (no ^C sent), pastes with Ctrl+Shift+V, and Ctrl+C without a selection reaches the job', async () => {
    const sup = await startSupervisor(['-W', '--', 'bash', '-c', 'echo copy-me-please; exec cat']);
    const page = await open(`${sup.baseUrl}/`);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: sup.baseUrl });
    await page.waitForText('copy-me-please');
    await page.page.locator('#terminal').click();
    await page.page.evaluate(() => {
      const term = window.__cliscale!.term;
      const buf = term.buffer.active;
      for (let y = 0; y < buf.length; y++) {
        const x = buf.getLine(y)!.translateToString(true).indexOf('copy-me-please');
        if (x >= 0) return term.select(x, y, 'copy-me-please'.length);
      }
      throw new Error('text not found');
    });
    await page.press('Control+C');
    await page.page.waitForFunction(async () => (await navigator.clipboard.readText()) === 'copy-me-please');
    expect(await page.page.evaluate(() => window.__cliscale!.term.hasSelection())).toBe(false);
    expect((await page.state()).kind).toBe('live'); // cat did not get ^C

    await page.page.evaluate(() => navigator.clipboard.writeText('pasted-line'));
    await page.press('Control+Shift+V');
    await page.type('\n');
    // Echoed by the tty, then printed again by cat.
    await page.page.waitForFunction(() => {
      const buf = window.__cliscale!.term.buffer.active;
      let n = 0;
      for (let y = 0; y < buf.length; y++) if (buf.getLine(y)!.translateToString(true) === 'pasted-line') n++;
      return n === 2;
    });

    await page.press('Control+C');
    await page.waitForState('ended');
    expect(await page.statusText()).toMatch(/^exited with code 130|SIGINT/);
    await page.screenshot('input-clipboard-then-ctrl-c');
  });

  it('makes links clickable (they open in a new tab)', async () => {
    const linkTarget = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('link target'));
    await new Promise<void>((resolve) => linkTarget.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(linkTarget.address() as AddressInfo).port}/linked-page`;
      const sup = await startSupervisor(['--', 'bash', '-c', `echo; echo "see ${url} for details"; sleep 600`]);
      const page = await open(`${sup.baseUrl}/`);
      await page.waitForText('linked-page');
      const target = await page.page.evaluate(() => {
        const term = window.__cliscale!.term;
        const buf = term.buffer.active;
        const screen = document.querySelector('.xterm-screen')!.getBoundingClientRect();
        for (let y = 0; y < buf.length; y++) {
          const x = buf.getLine(y)!.translateToString(true).indexOf('http://');
          if (x >= 0) {
            const row = y - buf.viewportY;
            return { x: screen.left + ((x + 5.5) * screen.width) / term.cols, y: screen.top + ((row + 0.5) * screen.height) / term.rows };
          }
        }
        throw new Error('link not found');
      });
      await page.page.mouse.move(target.x - 20, target.y);
      await page.page.mouse.move(target.x, target.y);
      const popup = browser.context.waitForEvent('page', { timeout: 10_000 });
      await page.page.mouse.click(target.x, target.y);
      const opened = await popup;
      await opened.waitForURL(url, { timeout: 10_000 });
      expect(await opened.locator('body').innerText()).toBe('link target');
      // The web-links addon cuts the opener, so the linked page cannot script the terminal.
      expect(await opened.evaluate(() => window.opener)).toBeNull();
      await opened.close();
    } finally {
      linkTarget.closeAllConnections();
      await new Promise((resolve) => linkTarget.close(resolve));
    }
  });
});
