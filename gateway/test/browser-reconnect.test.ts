import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeInBrowser, useBrowser } from '@cliscale/test-kit/browser';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { SessionFixture } from '@cliscale/test-kit/session-fixture';
import { startTestGateway, type TestGateway } from './helpers/gateway-harness.js';

/**
 * A real browser on a session's terminal URL (`/ws/{id}?token=…`, as the API hands it out), through a gateway
 * that restarts under it. The session, its runner and the token come from test-kit's SessionFixture.
 */
let t: TestDatabase;
let f: SessionFixture;
let g: TestGateway;

beforeAll(async () => {
  t = await createTestDatabase();
  f = await SessionFixture.start({ db: t.db });
});
afterAll(async () => {
  await g?.close();
  await f?.close();
  await t?.drop();
});

describeInBrowser('the browser terminal through the gateway', () => {
  const browser = useBrowser();

  it('survives a gateway restart: the page reconnects with its cookie and gets the whole terminal again, once', async () => {
    g = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl });
    const port = new URL(g.url).port;
    const { sessionId, token } = await f.createSession('for i in $(seq 1 60); do echo "line-$i"; done; read -r x; echo "typed: $x"; sleep 60');
    const page = await browser.open(`${g.url}/ws/${sessionId}?token=${token}`);
    await page.waitForText('line-60');
    // The one-time token left the address bar (303 to the bare session URL).
    expect(page.page.url()).toBe(`${g.url}/ws/${sessionId}`);
    expect(await page.page.content()).not.toContain(token);

    await g.close();
    g = await startTestGateway({ databaseUrl: t.url, jwksUrl: f.jwks.jwksUrl, env: { PORT: port } });
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
