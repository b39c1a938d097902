import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { WS_SUBPROTOCOL } from '@cliscale/protocol';
import type { TerminalSession } from '@cliscale/database';

/** The runner answered that it already has as many clients as it allows (the supervisor's 503 "too many clients"). */
export class RunnerFull extends Error {
  override name = 'RunnerFull';
}

/** How much of a refusal's body is read, and for how long, to tell "full" from "not ready yet". */
const REFUSAL_BODY_BYTES = 4096;
const REFUSAL_BODY_MS = 2_000;

/**
 * Opens a WebSocket to the session's runner with its credential. `socket` has an 'error' listener for its
 * whole life (a protocol error from the runner ends in 'close', never in an uncaught event); `opened`
 * resolves once the handshake is done, or rejects with RunnerFull or any other error (not listening yet,
 * reset, refused with another status). After a rejection the socket is terminated: nothing stays open.
 */
export function openRunner(session: TerminalSession, maxPayload: number): { socket: WebSocket; opened: Promise<void> } {
  const host = session.runner_host!.includes(':') ? `[${session.runner_host}]` : session.runner_host;
  const credential = Buffer.from(session.runner_credential).toString('base64');
  const socket = new WebSocket(`ws://${host}:${session.runner_port}/ws`, [WS_SUBPROTOCOL], {
    headers: { authorization: `Basic ${credential}` },
    handshakeTimeout: 5_000,
    maxPayload,
    perMessageDeflate: false,
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('error', reject); // after 'open' a no-op: the error is followed by 'close', which the bridge handles
    socket.once('unexpected-response', (_req, res: IncomingMessage) => {
      void refusalOf(res).then((err) => {
        reject(err);
        socket.terminate();
      });
    });
    socket.once('open', () => resolve());
  });
  opened.catch(() => socket.terminate());
  return { socket, opened };
}

/** What a runner's non-101 answer means. */
function refusalOf(res: IncomingMessage): Promise<Error> {
  return new Promise((resolve) => {
    let body = '';
    const done = () => {
      clearTimeout(timer);
      res.destroy();
      const full = res.statusCode === 503 && /too many clients/i.test(body);
      resolve(full ? new RunnerFull(`runner full: ${body}`) : new Error(`runner answered HTTP ${res.statusCode}`));
    };
    const timer = setTimeout(done, REFUSAL_BODY_MS);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
      if (body.length >= REFUSAL_BODY_BYTES) done();
    });
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  });
}
