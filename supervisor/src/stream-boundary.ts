/**
 * Tells whether the output stream, at its current end, sits between two complete terminal instructions:
 * no escape sequence, control string or UTF-8 character is half-way through. A snapshot serializes the
 * screen but not a parser caught mid-sequence, so replays are only cut at such boundaries; otherwise the
 * client would receive the rest of a sequence (`[0m`, a stray continuation byte) as text.
 *
 * This follows the VT500 parser states that matter for "are we in ground state" (as xterm.js implements
 * them), not the meaning of any sequence.
 */
const enum State {
  Ground,
  Escape,
  EscapeIntermediate,
  Csi,
  /** OSC, DCS, SOS, PM, APC: ended by BEL (OSC) or ST (ESC \). */
  String,
  StringEscape,
}

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;

export class StreamBoundary {
  private state = State.Ground;
  /** UTF-8 continuation bytes still expected in ground state. */
  private utf8Pending = 0;

  get atBoundary(): boolean {
    return this.state === State.Ground && this.utf8Pending === 0;
  }

  feed(chunk: Uint8Array): void {
    // Finish a sequence left open by the previous chunk, byte by byte.
    let i = 0;
    while (this.state !== State.Ground && i < chunk.length) this.step(chunk[i++]!);
    if (i >= chunk.length) return;
    const rest = i === 0 ? chunk : chunk.subarray(i);
    // In ground state, the state at the end depends only on the bytes from the last ESC on, or, with no
    // ESC, on a trailing unfinished UTF-8 character. lastIndexOf runs natively: this stays cheap at pty speed.
    const lastEsc = rest.lastIndexOf(ESC);
    if (lastEsc < 0) {
      this.trackUtf8(rest);
      return;
    }
    this.utf8Pending = 0;
    for (let j = lastEsc; j < rest.length; j++) this.step(rest[j]!);
  }

  /** A character is at most 4 bytes, so only the last 3 can belong to an unfinished one. */
  private trackUtf8(bytes: Uint8Array): void {
    const from = bytes.length <= 8 ? 0 : bytes.length - 3;
    let pending = from === 0 ? this.utf8Pending : 0;
    for (let i = from; i < bytes.length; i++) pending = utf8Step(pending, bytes[i]!);
    this.utf8Pending = pending;
  }

  private step(b: number): void {
    switch (this.state) {
      case State.Ground:
        if (b === ESC) {
          this.state = State.Escape;
          this.utf8Pending = 0;
        } else this.utf8Pending = utf8Step(this.utf8Pending, b);
        return;
      case State.Escape:
        if (b === CAN || b === SUB) this.state = State.Ground;
        else if (b === 0x5b) this.state = State.Csi; // [
        else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) this.state = State.String; // ] P X ^ _
        else if (b >= 0x20 && b <= 0x2f) this.state = State.EscapeIntermediate;
        else if (b >= 0x30 && b <= 0x7e) this.state = State.Ground;
        return; // ESC restarts; other C0 controls execute without leaving the state
      case State.EscapeIntermediate:
        if (b === ESC) this.state = State.Escape;
        else if (b === CAN || b === SUB || (b >= 0x30 && b <= 0x7e)) this.state = State.Ground;
        return;
      case State.Csi:
        if (b === ESC) this.state = State.Escape;
        else if (b === CAN || b === SUB || (b >= 0x40 && b <= 0x7e)) this.state = State.Ground;
        return;
      case State.String:
        if (b === ESC) this.state = State.StringEscape;
        else if (b === BEL || b === CAN || b === SUB) this.state = State.Ground;
        return;
      case State.StringEscape:
        if (b === 0x5c) this.state = State.Ground; // ST
        else {
          // ESC followed by anything else ends the string and starts a new escape sequence.
          this.state = State.Escape;
          this.step(b);
        }
        return;
    }
  }
}

/** Continuation bytes still expected after byte `b`, given `pending` before it. */
function utf8Step(pending: number, b: number): number {
  if (b < 0x80) return 0;
  if ((b & 0xc0) === 0x80) return pending > 0 ? pending - 1 : 0;
  if ((b & 0xe0) === 0xc0) return 1;
  if ((b & 0xf0) === 0xe0) return 2;
  if ((b & 0xf8) === 0xf0) return 3;
  return 0;
}
