import WebSocket from 'ws';
import { ClientCommand, decodeServerMessage, encodePreferences } from '@cliscale/protocol';

const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

/**
 * Forwards every message from one socket to the other, in order, with backpressure: when the receiving side
 * has more than 1 MiB queued, reading from the sending side pauses until it drains. `rewrite` may change a
 * message or drop it (undefined); without it messages pass unchanged.
 */
export function relay(
  from: WebSocket,
  to: WebSocket,
  count: (bytes: number) => void,
  rewrite?: (data: Buffer) => Uint8Array | undefined,
): void {
  from.on('message', (raw: Buffer) => {
    const data = rewrite ? rewrite(raw) : raw;
    if (to.readyState !== WebSocket.OPEN || !data) return;
    count(data.length);
    to.send(data, { binary: true }, () => {
      if (from.isPaused && to.bufferedAmount < LOW_WATER) from.resume();
    });
    if (to.bufferedAmount > HIGH_WATER && !from.isPaused) from.pause();
  });
}

/** View-only terminals: keystrokes and pastes never reach the runner; resizes and flow control still do. */
export const dropInput = (data: Buffer): Buffer | undefined => (data[0] === ClientCommand.INPUT ? undefined : data);

/** View-only terminals: the page is told to be read-only (ttyd's `readOnly` preference) whatever the runner says. */
export function markReadOnly(data: Buffer): Uint8Array {
  const message = decodeServerMessage(data);
  if (message.type !== 'preferences') return data;
  return encodePreferences({ ...message.preferences, readOnly: true });
}
