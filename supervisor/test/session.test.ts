import { describe, expect, it } from '@jest/globals';
import { connectWithCleanup } from './helpers/cleanup.js';
import { startSupervisor } from '@cliscale/test-kit/supervisor-process';
import { supervisorScreen, type TtyClient } from '@cliscale/test-kit/tty-client';

const connect = connectWithCleanup();

describe('one process, many viewers', () => {
  it('sends nothing before init, then title, then preferences, then output', async () => {
    const sup = await startSupervisor(['-t', 'fontSize=20', '--', 'sh', '-c', 'echo hello; sleep 60']);
    const client = await connect(sup.wsUrl, { init: false });
    await new Promise((r) => setTimeout(r, 300));
    expect(client.messages).toHaveLength(0);
    client.send(new TextEncoder().encode(JSON.stringify({ AuthToken: '', columns: 80, rows: 24 })));
    await client.waitForText('hello');
    expect(client.messages[0]).toEqual({ type: 'title', title: expect.stringMatching(/^sh -c echo hello; sleep 60 \(.+\)$/) });
    expect(client.messages[1]).toEqual({ type: 'preferences', preferences: { fontSize: 20 } });
    expect(client.messages.slice(2).every((m) => m.type === 'output')).toBe(true);
  });

  it('runs the command before anyone connects, and a disconnect never kills it', async () => {
    const sup = await startSupervisor(['-W', '--', 'bash', '--norc', '--noprofile']);
    const { pid } = await sup.status();
    const first = await connect(sup.wsUrl);
    first.type('echo first-$((6*7))\r');
    await first.waitForText('first-42');
    await first.close();
    const second = await connect(sup.wsUrl);
    await second.waitForText('first-42'); // replayed
    expect((await sup.status()).pid).toBe(pid);
    second.type('echo $$\r');
    await second.waitForText(new RegExp(`\\r${pid}\\r\\n`));
  });

  it('delivers input when writable and drops it (only it) when read-only', async () => {
    const rw = await startSupervisor(['-W', '--', 'cat']);
    const a = await connect(rw.wsUrl);
    a.type('typed-line\r');
    await a.waitForText('typed-line\r\ntyped-line');

    const ro = await startSupervisor(['--', 'sh', '-c', 'stty -echo; read line; echo "got:$line"; sleep 60']);
    const b = await connect(ro.wsUrl, { init: { columns: 90, rows: 20 } });
    b.type('should-not-arrive\r');
    await new Promise((r) => setTimeout(r, 400));
    expect(b.text()).not.toContain('got:');
    // Resizing is still allowed in read-only mode, as in ttyd.
    expect(await ro.status()).toMatchObject({ columns: 90, rows: 20 });
  });

  it('applies init and resize sizes to the pty (stty size sees them)', async () => {
    const sup = await startSupervisor(['-W', '--', 'bash', '--norc', '--noprofile']);
    const client = await connect(sup.wsUrl, { init: { columns: 100, rows: 30 } });
    client.type('stty size\r');
    await client.waitForText('30 100');
    client.resize(132, 43);
    client.type('stty size\r');
    await client.waitForText('43 132');
    expect(await sup.status()).toMatchObject({ columns: 132, rows: 43 });
  });

  it('gives two clients the same stream', async () => {
    const sup = await startSupervisor(['-W', '--', 'bash', '--norc', '--noprofile']);
    const a = await connect(sup.wsUrl, { screen: true });
    const b = await connect(sup.wsUrl, { screen: true });
    await a.waitForText('bash-');
    await b.waitForText('bash-');
    a.type('for i in $(seq 1 300); do echo "line $i"; done; echo DONE_$((1+1))\r');
    await a.waitForText('DONE_2');
    await b.waitForText('DONE_2');
    await new Promise((r) => setTimeout(r, 200));
    expect((await a.screenDump()).lines).toEqual((await b.screenDump()).lines);
  });
});

describe('replay', () => {
  it("reproduces the supervisor's terminal exactly for a late client: scrollback, screen, cursor", async () => {
    // Colours, wide characters, a title change and a partly overwritten last line.
    const script = 'for i in $(seq 1 3000); do printf "\\033[3%dmrow %05d\\033[0m ünï 中文\\n" $((i % 8)) $i; done; printf "tail\\033[2Dxy"; sleep 60';
    const sup = await startSupervisor(['--', 'bash', '--norc', '-c', script]);
    const early = await connect(sup.wsUrl, { screen: true });
    await early.waitForText('row 03000');
    await new Promise((r) => setTimeout(r, 200));
    const late = await connect(sup.wsUrl, { screen: true });
    await late.waitForText('taxy');
    const server = await supervisorScreen(sup.baseUrl);
    const lateView = await late.screenDump();
    expect(server.lines.length).toBe(3000 + 24 - 23); // 3000 rows + "tail" line, with 24 rows on screen
    expect(lateView.lines).toEqual(server.lines);
    expect(lateView.cursor).toEqual(server.cursor);
    expect(lateView.scrollbackLines).toBe(server.scrollbackLines);
    expect((await early.screenDump()).lines).toEqual(server.lines);
    // The replay carries colours too (SGR 31 = red for row 1).
    expect(late.text()).toMatch(/\x1b\[31m/);
    // With this much history the current screen comes first (a reset and one screenful), then the whole.
    const replays = late.text().split('\x1bc');
    expect(replays).toHaveLength(3);
    expect(replays[1]!.length).toBeLessThan(5000);
    expect(replays[1]).toContain('row 03000');
    expect(replays[2]).toContain('row 00001');
  });

  it('reconnects with no missing and no duplicated line while output keeps flowing', async () => {
    const sup = await startSupervisor(['--', 'bash', '--norc', '-c', 'for i in $(seq 1 2500); do echo "n=$i"; sleep 0.0005; done; echo END-MARK; sleep 60']);
    let client = await connect(sup.wsUrl, { screen: true, init: { columns: 80, rows: 24 } });
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 150));
      client.dispose();
      client = await connect(sup.wsUrl, { screen: true });
    }
    await client.waitForText('END-MARK', 30_000);
    await new Promise((r) => setTimeout(r, 100));
    const lines = (await client.screenDump()).lines.filter((l) => l.startsWith('n='));
    expect(lines).toEqual(Array.from({ length: 2500 }, (_, i) => `n=${i + 1}`));
    expect((await supervisorScreen(sup.baseUrl)).lines).toEqual((await client.screenDump()).lines);
  });

  it('cuts replays only between complete instructions: clients joining mid-flood all get the exact terminal', async () => {
    // Colours, OSC titles and multi-byte characters: many cut points would fall inside a sequence.
    const script = 'for i in $(seq 1 20000); do printf "\\033[3%dm%05d \\033]0;t%d\\007ü中\\033[0m\\n" $((i % 8)) $i $i; done; echo JOIN-END; sleep 60';
    const sup = await startSupervisor(['--', 'bash', '--norc', '-c', script]);
    const joiners: TtyClient[] = [];
    for (let k = 0; k < 8; k++) {
      joiners.push(await connect(sup.wsUrl, { screen: true }));
      await new Promise((r) => setTimeout(r, 30));
    }
    for (const c of joiners) await c.waitForText('JOIN-END', 30_000);
    await new Promise((r) => setTimeout(r, 200));
    const server = await supervisorScreen(sup.baseUrl);
    expect(server.lines.filter((l) => l.endsWith(' ü中')).length).toBe(20000);
    for (const c of joiners) expect((await c.screenDump()).lines).toEqual(server.lines);
  });

  it('replays the alternate screen of a full-screen program and its modes', async () => {
    const script = 'echo before; printf "\\033[?1049h\\033[?1h\\033[2J\\033[5;10HFULLSCREEN"; sleep 60';
    const sup = await startSupervisor(['--', 'bash', '--norc', '-c', script]);
    await connect(sup.wsUrl).then((c) => c.waitForText('FULLSCREEN'));
    const late = await connect(sup.wsUrl, { screen: true });
    await late.waitForText('FULLSCREEN');
    const view = await late.screenDump();
    const server = await supervisorScreen(sup.baseUrl);
    expect(server.buffer).toBe('alternate');
    expect(view.buffer).toBe('alternate');
    expect(view.lines).toEqual(server.lines);
    expect(view.cursor).toEqual(server.cursor);
    expect(late.text()).toContain('\x1b[?1h'); // application cursor keys survive the replay
  });
});
