import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * Bytes a hostile or broken peer sends, for each listener's fuzz suite: raw HTTP request lines and headers,
 * upgrade requests, and WebSocket frames written by hand (a real client library refuses to send most of
 * them). Everything talks to 127.0.0.1 only, and every wait is bounded.
 */

/** Request targets that break naive URL parsing, routing or decoding. */
export const NASTY_TARGETS: readonly string[] = [
  '//[',
  '/%zz',
  '/%',
  '/%E0%A4%A',
  'http://[::1',
  'http://user:pass@',
  '/ws/%00',
  '/ws/../../../etc/passwd',
  '/ws/..%2f..%2fetc%2fpasswd',
  '/ws/%2e%2e/',
  '*',
  '/ws/' + 'a'.repeat(8000),
  '/?' + 'token='.repeat(2000),
  '/ws/00000000-0000-0000-0000-000000000000?token=%ff%fe',
  '/ws//ws',
  '\\\\evil\\',
];

/** Header lines (name: value) that break naive header, cookie, origin or credential parsing. */
export const NASTY_HEADERS: readonly string[] = [
  'Cookie: =',
  'Cookie: ;;;=;a',
  'Cookie: cliscale_terminal=%',
  'Cookie: cliscale_terminal="unterminated',
  `Cookie: ${'a=b; '.repeat(2000)}`,
  'Authorization: Bearer',
  'Authorization: Basic %%%',
  'Authorization: Bearer a b c',
  `Authorization: Bearer ${'x'.repeat(8000)}`,
  'Origin: http://[',
  'Origin: null',
  'Origin: ://',
  'Host: [',
  'Host: a:b:c:d',
  'X-Forwarded-For: ,,,',
  'X-Forwarded-For: not an address',
  'X-Forwarded-Proto: gopher',
  'X-Forwarded-Host: [::',
  'Sec-WebSocket-Protocol: ,,,',
  `Sec-WebSocket-Protocol: ${'tty,'.repeat(2000)}tty`,
  'Sec-WebSocket-Key: not-base64',
  'Sec-WebSocket-Version: 99',
  'Content-Length: -1',
  'Content-Length: 99999999999999999999',
  'Transfer-Encoding: chunked, identity',
];

/** What came back on a raw connection: the bytes read until the peer closed or the wait ran out. */
export interface RawReply {
  text: string;
  /** The status of the first response line, or undefined when no response came. */
  status?: number;
  closedByPeer: boolean;
}

/** Writes `bytes` to 127.0.0.1:`port` and reads the answer, never throwing; waits at most `timeoutMs`. */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByPeer = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      resolve({ text, status: status ? Number(status) : undefined, closedByPeer });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      closedByPeer = true;
      finish();
    });
    socket.on('error', () => {
      closedByPeer = true;
      finish();
    });
    socket.on('close', finish);
    socket.write(bytes);
  });
}

/** A GET (or upgrade, with `upgrade: true`) of `target` with extra raw header lines. */
export function rawRequest(target: string, headerLines: readonly string[] = [], options: { upgrade?: boolean; method?: string } = {}): string {
  const upgrade = options.upgrade
    ? ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Protocol: tty']
    : [];
  return [`${options.method ?? 'GET'} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...upgrade, ...headerLines, '', ''].join('\r\n');
}

/** `count` requests of random bytes (seeded by nothing: every run tries new ones), some shaped like HTTP. */
export function randomRequests(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const junk = randomBytes(1 + ((i * 97) % 600));
    return i % 2 ? Buffer.concat([Buffer.from('GET /'), junk, Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]) : junk;
  });
}

/** A WebSocket frame as a client sends it (masked unless `mask: false`), with any opcode, flags or length. */
export function wsFrame(options: { opcode: number; payload?: Buffer | string; fin?: boolean; rsv?: number; mask?: boolean; declaredLength?: number }): Buffer {
  const payload = typeof options.payload === 'string' ? Buffer.from(options.payload) : (options.payload ?? Buffer.alloc(0));
  const length = options.declaredLength ?? payload.length;
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (options.opcode & 0x0f);
  const masked = options.mask ?? true;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, (masked ? 0x80 : 0) | length]);
  else if (length < 65536) {
    header = Buffer.alloc(4);
    header.writeUInt8(first, 0);
    header.writeUInt8((masked ? 0x80 : 0) | 126, 1);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(first, 0);
    header.writeUInt8((masked ? 0x80 : 0) | 127, 1);
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([header, key, body]);
}

/** Frames no conforming client sends, each with the close code a server should answer it with (RFC 6455). */
export const NASTY_FRAMES: ReadonlyArray<{ name: string; frame: Buffer; closeCodes: readonly number[] }> = [
  { name: 'text frame with invalid UTF-8', frame: wsFrame({ opcode: 0x1, payload: Buffer.from([0x7b, 0xff, 0xfe, 0xc3]) }), closeCodes: [1007] },
  { name: 'reserved bits set', frame: wsFrame({ opcode: 0x2, payload: '0x', rsv: 0b111 }), closeCodes: [1002] },
  { name: 'reserved opcode 0x3', frame: wsFrame({ opcode: 0x3, payload: 'x' }), closeCodes: [1002] },
  { name: 'unmasked client frame', frame: wsFrame({ opcode: 0x2, payload: '0x', mask: false }), closeCodes: [1002] },
  { name: 'fragmented ping', frame: wsFrame({ opcode: 0x9, payload: 'x', fin: false }), closeCodes: [1002] },
  { name: 'continuation without a start', frame: wsFrame({ opcode: 0x0, payload: 'x' }), closeCodes: [1002] },
  { name: 'close with an invalid code', frame: wsFrame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe7]) }), closeCodes: [1002] },
  { name: 'declared length of 2^40 bytes', frame: wsFrame({ opcode: 0x2, payload: '0', declaredLength: 2 ** 40 }), closeCodes: [1009] },
];

/**
 * Opens a WebSocket by hand (so that it can then write any bytes): sends the upgrade request `request`
 * (see rawRequest) and resolves with the socket once the 101 came, or with the refusal's reply.
 */
export function rawWebSocket(port: number, request: string, timeoutMs = 5000): Promise<{ socket: Socket; head: string } | { refused: RawReply }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ refused: { text: received.toString('latin1'), closedByPeer: false } });
    }, timeoutMs);
    const onData = (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      const head = received.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      if (status === 101) {
        const rest = received.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve({ socket, head });
      } else {
        socket.destroy();
        resolve({ refused: { text: received.toString('latin1'), status, closedByPeer: false } });
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.write(request);
  });
}

/** The close code of the first close frame the server sends on `socket`, or undefined if it just drops it. */
export function closeCodeOf(socket: Socket, timeoutMs = 5000): Promise<number | undefined> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    const done = (code: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      // Server frames are unmasked: walk them until a close frame (opcode 8).
      let at = 0;
      while (buffered.length - at >= 2) {
        const opcode = buffered[at]! & 0x0f;
        let length = buffered[at + 1]! & 0x7f;
        let offset = at + 2;
        if (length === 126) {
          if (buffered.length < offset + 2) return;
          length = buffered.readUInt16BE(offset);
          offset += 2;
        } else if (length === 127) {
          if (buffered.length < offset + 8) return;
          length = Number(buffered.readBigUInt64BE(offset));
          offset += 8;
        }
        if (buffered.length < offset + length) return;
        if (opcode === 0x8) return done(length >= 2 ? buffered.readUInt16BE(offset) : 1005);
        at = offset + length;
      }
    });
    socket.on('close', () => done(undefined));
    socket.on('error', () => done(undefined));
  });
}
