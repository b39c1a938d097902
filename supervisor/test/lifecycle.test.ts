import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { parseReadySignal } from '@cliscale/runner-contract';
import { SUPERVISOR_BIN } from '@cliscale/test-kit/supervisor-process';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { parseConfig } from '../src/config.js';
import { Supervisor } from '../src/supervisor.js';

/** The built page and terminal-model worker (the tests run the source; the worker must be a script). */
const options = { pageDir: new URL('../dist/page/', import.meta.url), workerUrl: new URL('../dist/mirror-worker.js', import.meta.url) };
const silent = pino({ level: 'silent' });

describe('Supervisor, in process', () => {
  const clients: TtyClient[] = [];
  const supervisors: Supervisor[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    // A supervisor already stopped just answers with its exit code.
    await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  });

  const start = async (argv: string[]) => {
    const supervisor = new Supervisor(parseConfig(['--port', '0', '--host', '127.0.0.1', ...argv], {}), silent, options);
    supervisors.push(supervisor);
    const port = await supervisor.start();
    const client = await TtyClient.connect(`ws://127.0.0.1:${port}/ws`);
    clients.push(client);
    return { supervisor, port, client };
  };

  it('serves its command to a ttyd client and resolves `exited` with the command’s code once the client has it all', async () => {
    const { supervisor, client } = await start(['-W', '--', '/bin/sh', '-c', 'printf "ready\\n"; read line; printf "hi %s" "$line"; exit 3']);
    await client.waitForText('ready');
    client.type('there\r');
    await client.waitForText('hi there');
    expect(await supervisor.exited).toBe(3);
    expect(client.exitStatus).toMatchObject({ exitCode: 3 });
    expect((await client.closed).code).toBe(1000);
  });

  it('with --no-exit keeps serving the final screen until stopped, then exits with the command’s code', async () => {
    const { supervisor, port, client } = await start(['--no-exit', '--', '/bin/sh', '-c', 'printf hi; exit 3']);
    await client.waitForText('hi');
    const status = async () => (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { state: string; exitCode: number };
    await client.until(() => client.exitStatus !== undefined, 15_000, 'the exit status');
    expect(await status()).toMatchObject({ state: 'exited', exitCode: 3 });
    expect(await supervisor.stop()).toBe(3);
  });
});

describe('ready signal', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  });

  it('writes one line to READY_FD once listening, closes it, and the port it names answers', async () => {
    child = spawn(process.execPath, [SUPERVISOR_BIN, '--port', '0', '--host', '127.0.0.1', '--', 'sleep', '60'], {
      env: { ...process.env, READY_FD: '3', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const readyPipe = child.stdio[3] as Readable;
    const written = await new Promise<string>((resolve, reject) => {
      let text = '';
      readyPipe.on('data', (d: Buffer) => (text += d.toString()));
      // The end of the pipe: the supervisor closed its end after writing.
      readyPipe.on('end', () => resolve(text));
      child!.once('exit', (code) => reject(new Error(`supervisor exited (${code}) before signalling: ${stderr}`)));
    });
    expect(written.split('\n').filter(Boolean)).toHaveLength(1);
    const signal = parseReadySignal(written.trim());
    expect(signal).toBeDefined();
    const res = await fetch(`http://127.0.0.1:${signal!.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
  });
});
