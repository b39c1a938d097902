import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { describeInBrowser, useBrowser } from '@cliscale/test-kit/browser';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { codeFolder } from '@cliscale/test-kit/code-fixtures';
import { startTestController, type TestController } from '../../controller/test/helpers/controller-harness.js';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';

/** A real browser on the terminal URL the API returns, through a gateway that restarts under it. */
let t: TestDatabase;
let c: TestController;
let g: TestGateway;
let code: string;

beforeAll(async () => {
  t = await createTestDatabase();
  code = await codeFolder();
  c = await startTestController({ databaseUrl: t.url, env: { ALLOW_LOCAL_CODE: 'true' } });
});
afterAll(async () => {
  await g?.close();
  await c?.close();
  await t?.drop();
  await rm(code, { recursive: true, force: true });
});

describeInBrowser('the browser terminal through the gateway', () => {
  const browser = useBrowser();

  it('survives a gateway restart: the page reconnects with its cookie and gets the whole terminal again, once', async () => {
    g = await startTestGateway({ databaseUrl: t.url, controllerUrl: c.url });
    const port = new URL(g.url).port;
    const res = await c.api('/api/sessions?wait=ready', {
      method: 'POST',
      json: { code_url: code, install_cmd: '', command: 'for i in $(seq 1 60); do echo "line-$i"; done; read -r x; echo "typed: $x"; sleep 60' },
    });
    const { terminalUrl, token } = (await res.json()) as { terminalUrl: string; token: string };
    const page = await browser.open(terminalUrl.replace(c.url, g.url));
    await page.waitForText('line-60');
    // The one-time token left the address bar (303 to the bare session URL).
    expect(page.page.url()).toBe(`${g.url}/ws/${new URL(terminalUrl).pathname.split('/')[2]}`);
    expect(await page.page.content()).not.toContain(token);

    await g.close();
    g = await startTestGateway({ databaseUrl: t.url, controllerUrl: c.url, env: { PORT: port } });
    await page.waitForOpens(2, 30_000);
    await page.waitForState('live', 30_000);
    await page.type('after restart\n');
    await page.waitForText('typed: after restart', 20_000);
    const lines = await page.bufferLines();
    for (const n of [1, 30, 60]) expect(lines.filter((l) => l === `line-${n}`)).toHaveLength(1);
    expect(page.errors).toEqual([]);
    await page.screenshot('gateway-after-restart');
  }, 90_000);
});
