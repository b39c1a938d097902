import { describe, expect, it } from '@jest/globals';
import { StreamBoundary } from '../src/stream-boundary.js';

const enc = (s: string) => Buffer.from(s, 'utf8');

/** Instructions a terminal stream is made of; a cut strictly inside one is not a boundary. */
const TOKENS = [
  'plain text ',
  '\r\n',
  'ü',
  '中',
  '😀',
  '\x1b[0m',
  '\x1b[38;2;10;20;30m',
  '\x1b[?1049h',
  '\x1b]0;window title\x07',
  '\x1b]8;;https://example.com\x1b\\',
  '\x1bP1$r0m\x1b\\',
  '\x1b(B',
  '\x1b7',
  '\x1b[1;2\x18', // CAN aborts a CSI: the sequence ends there
  '\x07',
];

function randomStream(seed: number, count: number): { bytes: Buffer; boundaries: Set<number> } {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const parts: Buffer[] = [];
  const boundaries = new Set<number>([0]);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const text = TOKENS[Math.floor(rand() * TOKENS.length)]!;
    const token = enc(text);
    parts.push(token);
    // Every printable ASCII character and every C0 control outside a sequence is an instruction of its own.
    const divisible = !text.includes('\x1b') && /^[\x00-\x7f]*$/.test(text);
    for (let k = 1; k <= token.length; k++) if (divisible || k === token.length) boundaries.add(at + k);
    at += token.length;
  }
  return { bytes: Buffer.concat(parts), boundaries };
}

describe('StreamBoundary', () => {
  it('knows a boundary from the inside of every kind of instruction, at every cut point', () => {
    const { bytes, boundaries } = randomStream(7, 400);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const b = new StreamBoundary();
      b.feed(bytes.subarray(0, cut));
      expect({ cut, boundary: b.atBoundary }).toEqual({ cut, boundary: boundaries.has(cut) });
    }
  });

  it('gives the same answer whatever the chunking (sequences split across reads)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { bytes, boundaries } = randomStream(seed, 300);
      const b = new StreamBoundary();
      let at = 0;
      let x = seed;
      while (at < bytes.length) {
        x = (x * 48271) % 2147483647;
        const size = 1 + (x % 40);
        const end = Math.min(bytes.length, at + size);
        b.feed(bytes.subarray(at, end));
        at = end;
        expect({ seed, at, boundary: b.atBoundary }).toEqual({ seed, at, boundary: boundaries.has(at) });
      }
    }
  });

  it('treats long plain chunks (the fast path) exactly, unfinished characters included', () => {
    const b = new StreamBoundary();
    b.feed(enc('x'.repeat(5000) + '中').subarray(0, 5001)); // lead byte of a 3-byte character
    expect(b.atBoundary).toBe(false);
    b.feed(Buffer.from([0xb8]));
    expect(b.atBoundary).toBe(false);
    b.feed(Buffer.concat([Buffer.from([0xad]), enc('y'.repeat(100))]));
    expect(b.atBoundary).toBe(true);
  });
});
