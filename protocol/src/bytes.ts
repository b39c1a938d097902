// Browser-safe byte helpers: the codec runs in Node (supervisor, gateway, tests) and in the browser (web-terminal).
const encoder = new TextEncoder();

/** Bytes backed by a plain ArrayBuffer, which is what WebSocket.send and postMessage transfer accept. */
export type Bytes = Uint8Array<ArrayBuffer>;
const decoder = new TextDecoder('utf-8', { fatal: false });

export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** One byte of command followed by the payload, in a single fresh buffer (one WebSocket message). */
export function withCommand(command: number, payload: Uint8Array | string): Bytes {
  const body = typeof payload === 'string' ? utf8(payload) : payload;
  const out = new Uint8Array(body.length + 1);
  out[0] = command;
  out.set(body, 1);
  return out;
}

/** Normalises what a WebSocket library hands over (Buffer, ArrayBuffer, fragments) to one Uint8Array. */
export function toBytes(data: ArrayBuffer | ArrayBufferView | ArrayBufferView[] | string): Uint8Array {
  if (typeof data === 'string') return utf8(data);
  if (Array.isArray(data)) {
    const total = data.reduce((n, part) => n + part.byteLength, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of data) {
      out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
      at += part.byteLength;
    }
    return out;
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
