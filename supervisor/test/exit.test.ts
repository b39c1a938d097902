import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@cliscale/test-kit/eventually';
import { connectWithCleanup } from './helpers/cleanup.js';
import { startSupervisor } from '@cliscale/test-kit/supervisor-process';

const connect = connectWithCleanup();

describe('exit', () => {
  it('delivers the last output, then the exit status, then closes with 1000 and exits with the code (x25: no race)', async () => {
    for (let run = 0; run < 25; run++) {
      const sup = await startSupervisor(['-W', '--', 'sh', '-c', 'stty -echo; read _; printf x; exit 3']);
      const client = await connect(sup.wsUrl);
      client.type('\r');
      const closed = await client.closed;
      expect({ run, text: client.text().endsWith('x') }).toEqual({ run, text: true });
      expect(client.exitStatus).toEqual({ exitCode: 3, signal: null });
      expect(closed.code).toBe(1000);
      expect((await sup.exited).code).toBe(3);
    }
  });

  it('flushes a large final burst to every client before closing', async () => {
    const sup = await startSupervisor(['-W', '--', 'sh', '-c', 'stty -echo; read _; seq 1 200000; exit 5']);
    const a = await connect(sup.wsUrl);
    const b = await connect(sup.wsUrl);
    // Both have their (empty) replay before the burst starts, so every number arrives as a live line.
    await Promise.all([a, b].map((c) => c.until(() => c.outputBytes > 0)));
    a.type('\r');
    await Promise.all([a.closed, b.closed]);
    for (const c of [a, b]) {
      // The replay of the still-empty screen is just the reset; everything after it is live.
      expect(c.text().startsWith('\x1bc1\r\n2\r\n')).toBe(true);
      const numbers = c.text().slice(2).split('\r\n').filter((l) => /^\d+$/.test(l));
      expect(numbers.length).toBe(200000);
      expect(numbers.at(-1)).toBe('200000');
      expect(c.exitStatus?.exitCode).toBe(5);
    }
    expect((await sup.exited).code).toBe(5);
  });

  it('never sends the exit status to a plain ttyd client (it did not ask)', async () => {
    const sup = await startSupervisor(['-W', '--', 'sh', '-c', 'read _; exit 0']);
    const client = await connect(sup.wsUrl, { init: { capabilities: [] } });
    client.type('\r');
    expect((await client.closed).code).toBe(1000);
    expect(client.messages.some((m) => m.type === 'exit-status')).toBe(false);
    expect((await sup.exited).code).toBe(0);
  });

  it('with --no-exit keeps serving the final screen, read-only, then exits with the code on SIGTERM', async () => {
    const sup = await startSupervisor(['-W', '--no-exit', '--', 'sh', '-c', 'echo final-words; exit 4']);
    const ended = await eventually(async () => {
      const status = await sup.status();
      return status.state === 'exited' && status;
    }, 15_000, 'the command to end');
    expect(ended).toMatchObject({ state: 'exited', exitCode: 4 });
    const late = await connect(sup.wsUrl);
    late.type('ignored\r');
    expect((await late.closed).code).toBe(1000);
    expect(late.text()).toContain('final-words');
    expect(late.text()).not.toContain('ignored');
    expect(late.exitStatus).toEqual({ exitCode: 4, signal: null });
    expect(sup.running).toBe(true);
    sup.proc.kill('SIGTERM');
    expect((await sup.exited).code).toBe(4);
  });

  it('reads EXIT_ON_JOB=false from the environment the same way', async () => {
    const sup = await startSupervisor(['--', 'true'], { env: { EXIT_ON_JOB: 'false' } });
    await eventually(async () => (await sup.status()).state === 'exited', 15_000, 'the command to end');
    // Serving the final screen still: it would have exited by now (its exit follows the command's at once).
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.running).toBe(true);
  });
});

describe('signals', () => {
  it("forwards SIGTERM to the command's process group and exits with the command's code", async () => {
    const sup = await startSupervisor(['--', 'sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done']);
    const client = await connect(sup.wsUrl);
    await client.waitForText('ready');
    sup.proc.kill('SIGTERM');
    await client.closed;
    expect(client.text()).toContain('got-term');
    expect((await sup.exited).code).toBe(42);
  });

  it('forwards SIGINT, and reports death by signal as 128+N', async () => {
    const sup = await startSupervisor(['--', 'sleep', '60']);
    const client = await connect(sup.wsUrl);
    await new Promise((r) => setTimeout(r, 100));
    sup.proc.kill('SIGINT');
    await client.closed;
    expect(client.exitStatus).toEqual({ exitCode: 130, signal: 'SIGINT' });
    expect((await sup.exited).code).toBe(130);
  });

  it('writes how the session ended to --termination-message-path (TERMINATION_MESSAGE_PATH), and still exits when it cannot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cliscale-termination-'));
    try {
      const exited = join(dir, 'exited');
      const three = await startSupervisor(['--termination-message-path', exited, '--', 'sh', '-c', 'exit 3']);
      expect((await three.exited).code).toBe(3);
      expect(readFileSync(exited, 'utf8')).toBe('the command exited with code 3');

      const killed = join(dir, 'killed');
      const sleeper = await startSupervisor(['--', 'sleep', '60'], { env: { TERMINATION_MESSAGE_PATH: killed } });
      sleeper.proc.kill('SIGINT');
      expect((await sleeper.exited).code).toBe(130);
      expect(readFileSync(killed, 'utf8')).toBe('the command was killed by SIGINT');

      // A path that cannot be written is logged; the exit code stays the command's.
      const unwritable = await startSupervisor(['--termination-message-path', join(dir, 'missing', 'file'), '--', 'sh', '-c', 'exit 4']);
      expect((await unwritable.exited).code).toBe(4);
      expect(unwritable.stderr).toContain('could not write the termination message');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with --exit-with-stdin, stops as on SIGHUP when its parent goes away (standard input closes)', async () => {
    const sup = await startSupervisor(['--exit-with-stdin', '--', 'sleep', '60'], { stdinPipe: true });
    const client = await connect(sup.wsUrl);
    await new Promise((r) => setTimeout(r, 200));
    expect(sup.proc.exitCode).toBeNull();
    sup.proc.stdin!.end();
    expect((await sup.exited).code).toBe(129);
    expect(client.exitStatus).toEqual({ exitCode: 129, signal: 'SIGHUP' });
    expect(sup.stderr).toContain('standard input closed');
  });

  it('with --no-exit, a signal that ends the command also ends the supervisor (one Ctrl+C is enough)', async () => {
    const sup = await startSupervisor(['--no-exit', '--', 'sleep', '60']);
    await new Promise((r) => setTimeout(r, 100));
    sup.proc.kill('SIGTERM');
    expect((await sup.exited).code).toBe(143);
  });

  it('kills a command that ignores SIGTERM after --kill-after', async () => {
    const sup = await startSupervisor(['--kill-after', '300', '--', 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done']);
    const client = await connect(sup.wsUrl);
    await client.waitForText('ready');
    sup.proc.kill('SIGTERM');
    expect((await sup.exited).code).toBe(137);
    expect(client.exitStatus?.signal).toBe('SIGKILL');
  });
});
