import { afterEach, expect, it } from '@jest/globals';
import { startSupervisor, stopAllSupervisors } from '@cliscale/test-kit/supervisor-process';
import { describeInBrowser, useBrowser } from '@cliscale/test-kit/browser';
import { DropProxy } from './helpers/drop-proxy.js';

const SHELL = ['-W', '--', 'bash', '--norc', '--noprofile', '-i'];
const SHELL_ENV = { env: { PS1: 'READY> ' } };

describeInBrowser('web terminal against a real supervisor', () => {
  const browser = useBrowser();
  const open = (url: string, viewport?: { width: number; height: number }) => browser.open(url, viewport);
  const proxies: DropProxy[] = [];
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.close();
    await stopAllSupervisors();
  });

  it('shows the command output, sends typed input, and shows "live" with the bytes received', async () => {
    const sup = await startSupervisor(SHELL, SHELL_ENV);
    const page = await open(`${sup.baseUrl}/`);
    await page.waitForText('READY>');
    await page.type('echo typed-$((6*7))\n');
    await page.waitForText('typed-42');
    expect(await page.statusText()).toBe('live');
    await page.page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#status .status-bytes')!.dataset.bytes) > 0);
    expect(await page.page.locator('#status .status-bytes').innerText()).toMatch(/^\d+(\.\d)? (B|KiB) received$/);
    expect(await page.page.evaluate(() => window.__cliscale!.webSocketUrl)).toBe(`ws://127.0.0.1:${sup.port}/ws`);
    // Desktop viewport: no extra key row.
    expect(await page.page.locator('#keys').isVisible()).toBe(false);
    expect(page.errors).toEqual([]);
    await page.screenshot('page-live');
  });

  it('fits the window and sends the new size: stty size follows the viewport', async () => {
    const sup = await startSupervisor(SHELL, SHELL_ENV);
    const page = await open(`${sup.baseUrl}/`, { width: 1000, height: 640 });
    await page.waitForText('READY>');
    const first = await page.size();
    await page.type('echo S=$(stty size)=\n');
    await page.waitForText(`S=${first.rows} ${first.cols}=`);

    await page.page.setViewportSize({ width: 640, height: 400 });
    await page.page.waitForFunction((cols) => window.__cliscale!.term.cols !== cols, first.cols);
    const second = await page.size();
    expect(second.cols).toBeLessThan(first.cols);
    expect(second.rows).toBeLessThan(first.rows);
    await page.type('clear; echo S=$(stty size)=\n');
    await page.waitForText(`S=${second.rows} ${second.cols}=`);
    expect((await sup.status())).toMatchObject({ columns: second.cols, rows: second.rows });
    expect(await page.page.locator('#status .status-size').innerText()).toBe(`${second.cols}×${second.rows}`);
    await page.screenshot('page-resized');
  });

  it('shows "exited with code 3" in red when the job fails, and does not reconnect', async () => {
    const sup = await startSupervisor(['-W', '--', 'bash', '-c', 'echo ready; read line; echo bye; exit 3']);
    const page = await open(`${sup.baseUrl}/`);
    await page.waitForText('ready');
    await page.type('\n');
    await page.waitForState('ended');
    expect(await page.statusText()).toBe('exited with code 3');
    expect(await page.page.locator('#status').getAttribute('data-tone')).toBe('failure');
    const colour = await page.page.locator('#status .status-state').evaluate((el) => getComputedStyle(el).color);
    expect(colour).toBe('rgb(240, 80, 80)');
    await page.waitForText('bye');
    await sup.exited;
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.opens()).toBe(1);
    expect((await page.state()).kind).toBe('ended');
    await page.screenshot('page-exited-3');
  });

  it('shows "exited with code 0" in green', async () => {
    const sup = await startSupervisor(['-W', '--', 'bash', '-c', 'echo ready; read line; exit 0']);
    const page = await open(`${sup.baseUrl}/`);
    await page.waitForText('ready');
    await page.type('\n');
    await page.waitForState('ended');
    expect(await page.statusText()).toBe('exited with code 0');
    const colour = await page.page.locator('#status .status-state').evaluate((el) => getComputedStyle(el).color);
    expect(colour).toBe('rgb(76, 175, 80)');
    await page.screenshot('page-exited-0');
  });

  it('works behind a path prefix: assets, /token and the WebSocket under /p/', async () => {
    const sup = await startSupervisor(SHELL, SHELL_ENV);
    const proxy = await DropProxy.start(sup.port, { prefix: '/p' });
    proxies.push(proxy);
    const page = await open(proxy.baseUrl);
    await page.waitForText('READY>');
    expect(await page.page.evaluate(() => window.__cliscale!.webSocketUrl)).toBe(`ws://127.0.0.1:${proxy.port}/p/ws`);
    await page.type('echo prefixed-$((1+1))\n');
    await page.waitForText('prefixed-2');
    expect(proxy.upgrades).toBe(1);
    const css = await page.page.evaluate(() => getComputedStyle(document.getElementById('status')!).display);
    expect(css).toBe('flex'); // client.css was found under the prefix
  });

  it('applies preferences like ttyd (xterm options, theme merge, query overrides) and shows read-only', async () => {
    const sup = await startSupervisor([
      '-t', 'fontSize=18',
      '-t', 'theme={"background":"#1e1e3f"}',
      '-t', 'readOnly=true',
      '-t', 'titleFixed=Fixed title',
      '-t', 'rendererType=webgl',
      '-t', 'noSuchOption=1',
      '-t', 'cols=3',
      '--', 'bash', '-c', 'echo read-only view; sleep 600',
    ]);
    const page = await open(`${sup.baseUrl}/?lineHeight=1.1`);
    await page.waitForText('read-only view');
    await page.waitForState('live');
    const applied = await page.page.evaluate(() => {
      const t = window.__cliscale!.term;
      return {
        fontSize: t.options.fontSize,
        lineHeight: t.options.lineHeight,
        background: t.options.theme?.background,
        foreground: t.options.theme?.foreground,
        disableStdin: t.options.disableStdin,
        cols: t.cols,
        title: document.title,
      };
    });
    expect(applied).toMatchObject({ fontSize: 18, lineHeight: 1.1, background: '#1e1e3f', foreground: '#d8d8d8', disableStdin: true, title: 'Fixed title' });
    expect(applied.cols).toBeGreaterThan(3);
    expect(await page.statusText()).toBe('read-only');
    expect(await page.page.locator('#status').getAttribute('data-state')).toBe('read-only');
    expect(page.errors).toEqual([]);
    await page.screenshot('page-read-only');
  });
});
