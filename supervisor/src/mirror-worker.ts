// Worker thread: owns the headless terminal. Parsing is the slowest step of the pipeline (~650k short
// lines/s), so it runs here while the main thread reads the pty and sends live bytes to clients.
import { parentPort, workerData } from 'node:worker_threads';
import { HeadlessScreen } from './headless-screen.js';
import type { FromMirror, MirrorInit, ToMirror } from './mirror-messages.js';

const port = parentPort;
if (!port) throw new Error('mirror-worker must run as a worker thread');
const init = workerData as MirrorInit;
const screen = new HeadlessScreen(init.columns, init.rows, init.scrollback);
const encoder = new TextEncoder();

function post(message: FromMirror, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
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
      screen.barrier(() => {
        const data = encoder.encode(screen.serialize());
        post({ t: 'snapshot', id: msg.id, data }, [data.buffer as ArrayBuffer]);
      });
      break;
    case 'dump':
      screen.barrier(() => post({ t: 'dump', id: msg.id, dump: screen.dump(msg.maxLines) }));
      break;
  }
});
