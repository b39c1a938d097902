// Worker thread: owns the headless terminal. Parsing is the slowest step of the pipeline (~650k short
// lines/s), so it runs here while the main thread reads the pty and sends live bytes to clients.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { HeadlessScreen } from '@cliscale/terminal-screen';
import type { FromMirror, MirrorInit, ToMirror } from './mirror-messages.js';

// The worker runs at the process's own priority. At nice 10 it starved whenever other processes wanted the
// CPU (2 busy processes on 2 cores: ~1-2 MB/s), and everything waiting for the model waited with it: a
// replay, a resync, and the command itself, paused at the parse backlog (a prompt after Ctrl+C took 10-15 s).

const port = parentPort;
if (!port) throw new Error('mirror-worker must run as a worker thread');
const init = workerData as MirrorInit;
const screen = new HeadlessScreen(init.columns, init.rows, init.scrollback);
const encoder = new TextEncoder();

/** Above this much history, a replay starts with the current screen while the rest is serialized. */
const PREVIEW_ABOVE_LINES = 2000;

// Serializing 100k lines leaves ~230 MiB of short-lived garbage that V8 is in no hurry to collect (RSS went
// 250 -> 940 MiB over three replays); collecting right after keeps the worker near its steady size.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function post(message: FromMirror, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function sendSnapshot(id: number, text: string, complete: boolean): void {
  const data = encoder.encode(text);
  post({ t: 'snapshot', id, data, complete }, [data.buffer]);
}

port.on('message', (msg: ToMirror) => {
  switch (msg.t) {
    case 'data': {
      const n = msg.bytes.byteLength;
      screen.write(msg.bytes, () => post({ t: 'parsed', bytes: n }));
      break;
    }
    case 'resize':
      // Applied at this exact point of the byte stream, so the model wraps lines as the real pty did.
      screen.barrier(() => screen.resize(msg.columns, msg.rows));
      break;
    case 'snapshot':
      // Serialized inside the barrier callback: exactly the bytes sent before the request, none after.
      // Both parts of a large replay come from the same barrier, so they describe the same offset.
      screen.barrier(() => {
        if (msg.screenOnly) return sendSnapshot(msg.id, screen.serialize(true), true);
        const large = screen.historyLines > PREVIEW_ABOVE_LINES;
        if (large) sendSnapshot(msg.id, screen.serialize(true), false);
        sendSnapshot(msg.id, screen.serialize(), true);
        if (large) collectGarbage();
      });
      break;
    case 'dump':
      screen.barrier(() => post({ t: 'dump', id: msg.id, dump: screen.dump(msg.maxLines) }));
      break;
  }
});
