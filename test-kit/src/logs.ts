import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A debug-level logger whose JSON lines land in `logs` (for "no key or token in the logs" checks). */
export function capturedLogger(): { logs: string[]; logger: Logger } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  return { logs, logger: pino({ level: 'debug' }, sink) };
}
