import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { TtyClient } from '@cliscale/test-kit/tty-client';
import { closeCodeOf, rawRequest, rawWebSocket, wsFrame } from '@cliscale/test-kit/hostile';
import type { SessionFixture } from '@cliscale/test-kit/session-fixture';
import type { TestGateway } from './gateway-harness.js';

/** A runner command that answers every line it reads: `got-<line>`. */
export const ECHO_COMMAND = 'while read -r line; do echo "got-$line"; done';

const port = (g: TestGateway) => Number(new URL(g.url).port);

/**
 * A normal client, end to end: a fresh token, an init, a line typed, and the runner's answer back. Throws
 * (so the test fails) when the gateway does not serve it within `timeoutMs`.
 */
export async function servesNormalClient(g: TestGateway, f: SessionFixture, sessionId: string, timeoutMs = 15_000): Promise<void> {
  const { token } = await f.issueToken(sessionId);
  const client = await TtyClient.connect(`${g.wsBase}/ws/${sessionId}?token=${token}`);
  try {
    await connected(client, timeoutMs);
    const word = `alive${Math.random().toString(36).slice(2, 10)}`;
    client.type(`${word}\r`);
    await client.waitForText(`got-${word}`, timeoutMs);
  } finally {
    client.dispose();
  }
}

/**
 * Until the runner's preferences have come through: input typed before the gateway has reached the runner
 * is dropped (no typing ahead of the terminal).
 */
export const connected = (client: TtyClient, timeoutMs = 15_000) =>
  client.until(() => client.messages.some((m) => m.type === 'preferences'), timeoutMs, 'the runner\'s preferences');

/** A WebSocket to the gateway opened by hand (so it can write any bytes), with a fresh token of the session. */
export async function rawTerminal(g: TestGateway, f: SessionFixture, sessionId: string): Promise<Socket> {
  const { token } = await f.issueToken(sessionId);
  const opened = await rawWebSocket(port(g), rawRequest(`/ws/${sessionId}?token=${token}`, [], { upgrade: true }));
  if ('refused' in opened) throw new Error(`upgrade refused: ${opened.refused.text.slice(0, 300)}`);
  return opened.socket;
}

/** A binary client message as a masked frame. */
export const binaryFrame = (payload: Buffer | string) => wsFrame({ opcode: 0x2, payload });

/** Sends `frames` on a fresh raw terminal and returns the close code the gateway answers with. */
export async function closeCodeAfter(g: TestGateway, f: SessionFixture, sessionId: string, frames: Buffer[], timeoutMs = 10_000): Promise<number | undefined> {
  const socket = await rawTerminal(g, f, sessionId);
  const code = closeCodeOf(socket, timeoutMs);
  for (const frame of frames) socket.write(frame);
  return code;
}

/** The close code and reason a `ws` client gets after sending `messages` (not the init: these ARE the first messages). */
export async function closeAfterMessages(url: string, messages: Array<Buffer | string>): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url, ['tty']);
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
  });
  for (const m of messages) ws.send(m);
  return closed;
}
