import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeInBrowser, useBrowser } from '@cliscale/test-kit/browser';
import { sampleCliPath } from '../src/banner.js';
import { LocalProcess } from './helpers/local-process.js';
import { finalState as pollFinalState } from '@cliscale/test-kit/session-polling';

/**
 * The README's flow, as a new user does it: `npm start`, the printed curl (with the printed key), the
 * terminalUrl in a browser, typing the answer, a reload mid-run, the exit code in the page and in the API.
 */
let local: LocalProcess;
beforeAll(async () => {
  local = await LocalProcess.start();
});
afterAll(async () => {
  await local?.stop();
});

async function createSession(body: Record<string, unknown> = {}): Promise<{ sessionId: string; terminalUrl: string }> {
  const res = await local.api('/api/sessions', {
    method: 'POST',
    json: { code_url: sampleCliPath(), command: 'node index.js', install_cmd: '', prompt: 'say hello', ...body },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { sessionId: string; terminalUrl: string };
}

const finalState = (sessionId: string) => pollFinalState((path) => local.api(path), sessionId);

describeInBrowser('cliscale end to end (local mode, Chromium)', () => {
  const browser = useBrowser();

  it('runs sample-cli in the browser: output, reload without duplicates, typed answer, exit code in page and API', async () => {
    const { sessionId, terminalUrl } = await createSession();
    const page = await browser.open(terminalUrl);
    await page.waitForText('How many stars', 30_000);
    expect(page.page.url()).not.toContain('token=');
    await page.page.reload();
    await page.page.waitForFunction(() => window.__cliscale !== undefined);
    await page.waitForText('How many stars', 20_000);
    const lines = await page.bufferLines();
    expect(lines.filter((l) => l.includes('task: say hello'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('cliscale sample job'))).toHaveLength(1);
    await page.type('3\n');
    await page.waitForText('exit code 3', 20_000);
    await page.waitForState('ended', 20_000);
    expect(await page.statusText()).toBe('exited with code 3');
    expect(await finalState(sessionId)).toMatchObject({ status: 'failed', exitCode: 3 });
    await page.screenshot('local-sample-cli-exit-3');
  }, 120_000);

  it('a second viewer with a view token sees the same screen and cannot type', async () => {
    const { sessionId, terminalUrl } = await createSession({ prompt: 'two viewers' });
    const tokenRes = await local.api(`/api/sessions/${sessionId}/tokens`, { method: 'POST', json: { mode: 'view' } });
    const { terminalUrl: viewUrl } = (await tokenRes.json()) as { terminalUrl: string };
    const driver = await browser.open(terminalUrl);
    await driver.waitForText('How many stars', 30_000);
    // Same browser profile: the view link gets its own page and cookie (/ws/{id}/view).
    const viewer = await browser.open(viewUrl);
    expect(new URL(viewer.page.url()).pathname).toBe(`/ws/${sessionId}/view`);
    await viewer.waitForText('How many stars', 20_000);
    await viewer.type('5\n');
    await new Promise((r) => setTimeout(r, 500));
    expect(await driver.bufferText()).not.toMatch(/stars:\s+★/);
    // The driver's page, reloaded after the view link was opened, can still type.
    await driver.page.reload();
    await driver.waitForText('How many stars', 20_000);
    await driver.type('0\n');
    await viewer.waitForText('exit code 0 (success)', 20_000);
    expect(await finalState(sessionId)).toMatchObject({ status: 'succeeded', exitCode: 0 });
  }, 120_000);

  it('DELETE cancels a running session and the page says so', async () => {
    const { sessionId, terminalUrl } = await createSession({ prompt: 'to be cancelled' });
    const page = await browser.open(terminalUrl);
    await page.waitForText('How many stars', 30_000);
    expect((await local.api(`/api/sessions/${sessionId}`, { method: 'DELETE' })).status).toBe(200);
    await page.waitForState('ended', 20_000);
    expect(await page.statusText()).toMatch(/SIGTERM|exited with code 143/);
    expect(await finalState(sessionId)).toMatchObject({ status: 'cancelled' });
  }, 60_000);

  it('ten sessions at once all complete', async () => {
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => createSession({ command: `node index.js --answer 0`, prompt: `job ${i}` })));
    const results = await Promise.all(created.map((s) => finalState(s.sessionId)));
    expect(results.map((r) => `${r.status}:${r.exitCode}`)).toEqual(Array(10).fill('succeeded:0'));
  }, 120_000);
});
