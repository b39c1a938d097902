// Measures the supervisor's event-loop stalls from outside: GET /healthz every 5 ms over one keep-alive
// connection, from a worker thread, so the bench's own busy main thread (which is receiving the replay)
// does not delay the probe. /healthz is answered on the supervisor's main thread with no other work, so
// its response time is the time that thread was busy with something else.
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const clock = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let running = true;
const samples = [];
parentPort.on('message', (m) => { if (m === 'stop') running = false; });
function once() {
  return new Promise((resolve) => {
    const t0 = clock();
    const req = http.get({ host: '127.0.0.1', port: workerData.port, path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve([t0, clock() - t0]));
    });
    req.on('error', () => resolve([t0, -1]));
  });
}
(async () => {
  parentPort.postMessage('started');
  while (running) {
    const s = await once();
    samples.push(s);
    const wait = workerData.intervalMs - (clock() - s[0]);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  agent.destroy();
  parentPort.postMessage(samples);
})();
`;

/** Starts probing; returns { stop(): Promise<[startEpochMs, latencyMs][]> }. Times are epoch ms (Date-like). */
export async function startHealthzProbe(port, intervalMs = 5) {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port, intervalMs } });
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if (m !== 'started') resolve(m);
    });
    worker.on('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve));
  return {
    async stop() {
      worker.postMessage('stop');
      const samples = await result;
      await worker.terminate();
      return samples;
    },
  };
}
