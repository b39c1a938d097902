import { now, percentile, sleep } from './common.js';

/**
 * Keystroke echo: one key at a time into bash's readline (alternately "a" and DEL, so the line never grows);
 * latency = from handing the key to the transport until the first output byte comes back. The first
 * `warmup` keys are not counted.
 */
export async function echoLatency(keys, warmup, { send, subscribe }) {
  const samples = [];
  for (let i = 0; i < keys; i++) {
    const key = i % 2 === 0 ? 'a' : '\x7f';
    const arrived = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`no echo within 2 s for key #${i}`));
      }, 2000);
      const unsubscribe = subscribe((text, t) => {
        if (key === 'a' && !text.includes('a')) return; // the echo of "a" must contain it
        clearTimeout(timer);
        unsubscribe();
        resolve(t);
      });
    });
    const t0 = now();
    send(key);
    const t = await arrived;
    if (i >= warmup) samples.push(t - t0);
    await sleep(4); // let any trailing bytes of this echo arrive before the next key
  }
  return {
    samples: samples.length,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
  };
}
