import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { CAPABILITY_EXIT_STATUS, encodeExitStatus, encodeOutput } from '@cliscale/protocol';
import { describeInBrowser, trimTrailingBlank, useBrowser, type TerminalPage } from '@cliscale/test-kit/browser';
import { FakeTtyd } from './helpers/fake-ttyd.js';

describeInBrowser('web terminal against a minimal ttyd-like server', () => {
  const browser = useBrowser();
  let fake: FakeTtyd;
  beforeEach(async () => {
    fake = await FakeTtyd.start();
  });
  afterEach(() => fake.close());

  const open = (path: string): Promise<TerminalPage> => browser.open(`${fake.baseUrl}${path}`);

  it('on the gateway path /ws/{id}: assets one level up, /ws/{id}/token, WebSocket /ws/{id}/ws, ttyd init + exit-status capability', async () => {
    const page = await open('/ws/session-1');
    await page.waitForText('connection 1 line B');
    expect(fake.requests).toEqual(expect.arrayContaining(['/ws/session-1', '/ws/assets/client.css', '/ws/assets/client.js', '/ws/session-1/token']));
    const conn = fake.connections[0]!;
    expect(conn.path).toBe('/ws/session-1/ws');
    const size = await page.size();
    expect(conn.init).toEqual({ AuthToken: 'secret-token', columns: size.cols, rows: size.rows, capabilities: [CAPABILITY_EXIT_STATUS] });
    expect(conn.messages[0]!.type).toBe('init');
    expect(conn.allBinary).toBe(true);
    expect(await page.page.title()).toBe('fake job 1');
    expect(await page.statusText()).toBe('live');

    await page.type('hi');
    await page.page.waitForFunction(() => true);
    await new Promise((r) => setTimeout(r, 300));
    const inputs = conn.messages.filter((m) => m.type === 'input').map((m) => Buffer.from((m as { data: Uint8Array }).data).toString());
    expect(inputs.join('')).toBe('hi');
    expect(page.errors).toEqual([]);
  });

  it('wipes its own screen and scrollback on a new connection, even when the server sends no reset', async () => {
    fake.output = (n) => Array.from({ length: 60 }, (_, i) => `connection ${n} line ${i + 1}\r\n`).join('');
    const page = await open('/');
    await page.waitForText('connection 1 line 60');
    fake.connections[0]!.ws.terminate();
    await page.waitForOpens(2);
    await page.waitForText('connection 2 line 60');
    const lines = trimTrailingBlank(await page.bufferLines());
    expect(lines).toEqual(Array.from({ length: 60 }, (_, i) => `connection 2 line ${i + 1}`));
  });

  it('a close 1000 after an exit status shows the code; a close 1000 without one shows "ended"; neither reconnects', async () => {
    const page = await open('/');
    await page.waitForText('connection 1 line B');
    const conn = fake.connections[0]!;
    conn.ws.send(encodeOutput('last words\r\n'));
    conn.ws.send(encodeExitStatus({ exitCode: 137, signal: 'SIGKILL' }));
    conn.ws.close(1000, 'command ended');
    await page.waitForState('ended');
    expect(await page.statusText()).toBe('exited with code 137 (SIGKILL)');
    await page.waitForText('last words');

    const second = await browser.open(fake.baseUrl + '/');
    await second.waitForText('connection 2 line B');
    fake.connections[1]!.ws.close(1000);
    await second.waitForState('ended');
    expect(await second.statusText()).toBe('ended');
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.connections).toHaveLength(2);
  });

  it('carries on with an empty token when /token is broken, and survives preferences xterm refuses', async () => {
    fake.tokenBody = 'this is not JSON';
    fake.preferences = { fontSize: 'huge', cursorStyle: 42, theme: 'not an object', scrollback: -5, enableZmodem: true, nested: { a: [1] } };
    const page = await open('/');
    await page.waitForText('connection 1 line B');
    expect(fake.connections[0]!.init?.AuthToken).toBe('');
    expect(await page.statusText()).toBe('live');
    const options = await page.page.evaluate(() => {
      const o = window.__cliscale!.term.options;
      return { background: o.theme?.background, fontSize: o.fontSize, cursorStyle: o.cursorStyle, scrollback: o.scrollback };
    });
    expect(options).toEqual({ background: '#101010', fontSize: 14, cursorStyle: 'block', scrollback: 100_000 });
    expect(page.errors).toEqual([]);
  });
});
