/** Largest OUTPUT message built when several small pty chunks are waiting. */
export const MAX_MESSAGE_PAYLOAD = 64 * 1024;

/** Replay data split into OUTPUT messages of at most MAX_MESSAGE_PAYLOAD bytes (views, not copies). */
export function chunked(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength; at += MAX_MESSAGE_PAYLOAD) out.push(data.subarray(at, at + MAX_MESSAGE_PAYLOAD));
  return out;
}

/** A live chunk and the stream offset just after it. */
interface Queued {
  bytes: Uint8Array;
  end: number;
}

/** One client's live output not sent yet, in stream order, each chunk tagged with its end offset. */
export class LiveQueue {
  private chunks: Queued[] = [];
  bytes = 0;

  get empty(): boolean {
    return this.chunks.length === 0;
  }

  push(bytes: Uint8Array, end: number): void {
    this.chunks.push({ bytes, end });
    this.bytes += bytes.byteLength;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }

  /** Drops everything up to stream offset `offset` (it is already in a replay). */
  skipThrough(offset: number): void {
    while (this.chunks.length > 0) {
      const head = this.chunks[0]!;
      if (head.end <= offset) {
        this.chunks.shift();
        this.bytes -= head.bytes.byteLength;
        continue;
      }
      const start = head.end - head.bytes.byteLength;
      if (start < offset) {
        head.bytes = head.bytes.subarray(offset - start);
        this.bytes -= offset - start;
      }
      break;
    }
  }

  /** The next OUTPUT payload: small chunks (a busy pty yields many) coalesced into one message, same bytes. */
  take(): Uint8Array | undefined {
    const head = this.chunks.shift()?.bytes;
    if (!head) return undefined;
    this.bytes -= head.byteLength;
    const parts = [head];
    let size = head.byteLength;
    while (this.chunks.length > 0 && size + this.chunks[0]!.bytes.byteLength <= MAX_MESSAGE_PAYLOAD) {
      const next = this.chunks.shift()!.bytes;
      this.bytes -= next.byteLength;
      parts.push(next);
      size += next.byteLength;
    }
    if (parts.length === 1) return head;
    const merged = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      merged.set(p, at);
      at += p.byteLength;
    }
    return merged;
  }
}
