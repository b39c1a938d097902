import { describe, expect, it } from '@jest/globals';
import type { Socket } from 'node:net';
import { eventually } from '@cliscale/test-kit/eventually';
import { connectWithCleanup } from './helpers/cleanup.js';
import { startSupervisor, type SupervisorProcess } from '@cliscale/test-kit/supervisor-process';
import { supervisorScreen, type TtyClient } from '@cliscale/test-kit/tty-client';

const connect = connectWithCleanup();

/** Samples the supervisor's RSS until stopped; returns the peak in MiB. */
function watchMemory(sup: SupervisorProcess): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, sup.rss());
    } catch {
      // exited
    }
  }, 100);
  return { stop: () => (clearInterval(timer), peak / 2 ** 20) };
}

const socketOf = (c: TtyClient) => (c.ws as unknown as { _socket: Socket })._socket;

describe('flow control', () => {
  it('survives a 200 MB flood without losing a byte or growing memory without bound', async () => {
    // 150 MB of random data in base64: 200 MB of output in 76-column lines.
    const sup = await startSupervisor(['-W', '--', 'sh', '-c', 'stty -echo; read _; head -c 150000000 /dev/urandom | base64; echo FLOOD-END; sleep 60']);
    const client = await connect(sup.wsUrl, { keepOutput: false });
    await client.until(() => client.outputBytes > 0);
    const memory = watchMemory(sup);
    client.type('\r');
    await client.waitForTail('FLOOD-END', 120_000);
    const peakMiB = memory.stop();
    // base64 output: 150e6 * 4/3 plus CRLF line endings (77 input bytes per 76-column line).
    const expected = Math.ceil(150e6 / 3) * 4 + Math.ceil((150e6 * 4) / 3 / 76) * 2;
    // A client that fell more than --client-queue-bytes behind (a busy machine) is resynced by a replay by
    // design, so it receives fewer bytes; the supervisor itself must still have passed on every byte.
    if (!/client fell behind/.test(sup.stderr)) expect(client.outputBytes).toBeGreaterThanOrEqual(expected);
    expect((await sup.status()).bytesOut).toBeGreaterThanOrEqual(expected);
    // 100k lines of scrollback cost ~150 MiB (STACK.md); the 16 MiB parse backlog and queues add to it.
    // Without flow control the model's pending writes alone would exceed 200 MB (and xterm would throw).
    expect(peakMiB).toBeLessThan(600);
    // The terminal model has caught up and holds the tail of the flood.
    const screen = await supervisorScreen(sup.baseUrl, 30);
    expect(screen.lines.join('\n')).toContain('FLOOD-END');
    expect(screen.scrollbackLines).toBe(100_000);
    // Its own wait is 120 s: on a machine busy with the other suites the flood takes over a minute.
  }, 180_000);

  it('a stalled client neither slows the command nor another client, and comes back through a replay', async () => {
    // A stalled socket cannot answer pings either; a long interval keeps it from being dropped as dead.
    const sup = await startSupervisor(['-W', '-P', '120', '--', 'sh', '-c', 'stty -echo; read _; head -c 45000000 /dev/urandom | base64; echo STALL-END; sleep 60']);
    const stalled = await connect(sup.wsUrl, { keepOutput: false, screen: true });
    const healthy = await connect(sup.wsUrl, { keepOutput: false });
    await Promise.all([stalled, healthy].map((c) => c.until(() => c.outputBytes > 0)));
    socketOf(stalled).pause(); // stops reading: the kernel buffers fill and the supervisor cannot send
    const memory = watchMemory(sup);
    healthy.type('\r');
    await healthy.waitForTail('STALL-END', 60_000);
    // The command itself finished while the stalled client still was not reading.
    expect((await supervisorScreen(sup.baseUrl, 5)).lines.join('\n')).toContain('STALL-END');
    const peakMiB = memory.stop();
    // The same bound as the flood above: scrollback (~150 MiB), the parse backlog and one bounded queue, plus
    // garbage V8 has not collected yet on a busy machine (measured 420-560 MiB with other suites running).
    expect(peakMiB).toBeLessThan(600);
    expect(stalled.tail).not.toContain('STALL-END');

    socketOf(stalled).resume();
    await stalled.waitForTail('STALL-END', 60_000);
    await new Promise((r) => setTimeout(r, 300));
    const server = await supervisorScreen(sup.baseUrl);
    const view = await stalled.screenDump();
    expect(view.lines.slice(-24)).toEqual(server.lines.slice(-24));
    expect(view.cursor).toEqual(server.cursor);
    expect(sup.stderr).toMatch(/client fell behind; it will get a fresh replay/);
  });

  it('a client slower than a sustained flood keeps seeing it advance, and gets its whole history back once it keeps up', async () => {
    // A flood of a fixed duration, not size: on a fast machine 3M lines were over before a second replay.
    // (With the default parse backlog the first 16 MiB come at pty speed: the client surely falls behind.
    // A smaller one paced the flood to the model's parsing from the start, and a busy machine's client kept up.)
    // A reader this slow may not answer pings in time on a busy machine; being dropped is not what this tests.
    const sup = await startSupervisor([
      '-W', '--client-queue-bytes', String(1 << 20), '-P', '60',
      '--', 'sh', '-c', 'stty -echo; read _; timeout 15 seq 1 999999999; echo SLOW-END; sleep 60',
    ]);
    const slow = await connect(sup.wsUrl, { keepOutput: false, screen: true });
    await slow.until(() => slow.outputBytes > 0);
    slow.type('\r');
    // Not reading at all until it has fallen behind: on a busy machine the flood can be slower than even the
    // throttled reader below, which then never falls behind.
    socketOf(slow).pause();
    // Goes on either way after 15 s: what follows checks that the client was brought back.
    await eventually(() => /client fell behind/.test(sup.stderr), 15_000, 'the client to fall behind').catch(() => undefined);
    // Then reads 50 ms out of every 500: far slower than the flood.
    let reading: NodeJS.Timeout | undefined;
    const throttle = setInterval(() => {
      socketOf(slow).resume();
      reading = setTimeout(() => socketOf(slow).pause(), 50);
    }, 500);
    const seen = new Set<number>();
    try {
      const deadline = Date.now() + 120_000;
      while (!slow.tail.includes('SLOW-END') && Date.now() < deadline) {
        const last = (await slow.screenDump()).lines.filter((l) => /^\d+$/.test(l)).at(-1);
        if (last) seen.add(Number(last));
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      clearInterval(throttle);
      clearTimeout(reading);
      socketOf(slow).resume();
    }
    if (!slow.tail.includes('SLOW-END')) {
      const status = await sup.status().catch((e: Error) => e.message);
      throw new Error(`no SLOW-END after 120 s: client ${slow.outputBytes} bytes, socket state ${slow.ws.readyState}, tail ${JSON.stringify(slow.tail.slice(-40))}; supervisor ${JSON.stringify(status)}; log:\n${sup.logTail(8)}`);
    }
    expect(sup.stderr).toMatch(/client fell behind/);
    // Replays of the current screen while the flood went on: the client saw it advance, not a frozen screen.
    // (Restarting every replay that went stale, as before, sent nothing until the flood ended.)
    // At least two screens between the first and the last (either of which may be among these).
    expect([...seen].filter((n) => n > 1).length).toBeGreaterThanOrEqual(3);
    // Keeping up again, it gets a complete replay: scrollback and screen equal the supervisor's.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [view, server] = await Promise.all([slow.screenDump(), supervisorScreen(sup.baseUrl)]);
      if (view.scrollbackLines === server.scrollbackLines && view.lines.join('\n') === server.lines.join('\n')) break;
      if (Date.now() > deadline) {
        throw new Error(`no complete replay: client has ${view.scrollbackLines} lines of history, the supervisor ${server.scrollbackLines}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 180_000);

  it('honours PAUSE for that client only, and RESUME brings it up to date', async () => {
    const sup = await startSupervisor(['-W', '--', 'sh', '-c', 'stty -echo; read _; seq 1 30000; echo PAUSE-END; sleep 60']);
    const paused = await connect(sup.wsUrl, { screen: true });
    const other = await connect(sup.wsUrl);
    await Promise.all([paused, other].map((c) => c.until(() => c.outputBytes > 0)));
    paused.pause();
    await new Promise((r) => setTimeout(r, 100));
    const before = paused.outputBytes;
    other.type('\r');
    await other.waitForText('PAUSE-END');
    await new Promise((r) => setTimeout(r, 300));
    expect(paused.outputBytes).toBe(before);
    paused.resume();
    await paused.waitForText('PAUSE-END');
    await new Promise((r) => setTimeout(r, 100));
    expect((await paused.screenDump()).lines).toEqual((await supervisorScreen(sup.baseUrl)).lines);
    expect(paused.text().startsWith('\x1bc1\r\n')).toBe(true); // empty replay, then every line live
    const numbers = paused.text().slice(2).split('\r\n').filter((l) => /^\d+$/.test(l));
    expect(numbers.length).toBe(30000);
  });
});
