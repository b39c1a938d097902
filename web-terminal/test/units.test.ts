// The page's pure logic, without a browser (runs everywhere, also when chromium is missing).
import { describe, expect, it, jest } from '@jest/globals';
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, backoffDelay } from '../src/backoff.js';
import { fetchToken, tokenUrl, webSocketUrl } from '../src/endpoints.js';
import { FlowControl, HIGH_WATER_BYTES, LOW_WATER_BYTES } from '../src/flow-control.js';
import { arrowBytes, withCtrl } from '../src/mobile-keys.js';
import { applyPreferences, preferencesFromQuery } from '../src/preferences.js';
import { describeState, formatBytes } from '../src/status-bar.js';

describe('endpoints (ttyd rule: page path without trailing slashes, plus /ws and /token)', () => {
  const at = (protocol: string, host: string, pathname: string) => ({ protocol, host, pathname });
  it.each([
    [at('http:', '127.0.0.1:7681', '/'), 'ws://127.0.0.1:7681/ws', 'http://127.0.0.1:7681/token'],
    [at('https:', 'example.com', '/p/'), 'wss://example.com/p/ws', 'https://example.com/p/token'],
    [at('https:', 'example.com', '/p//'), 'wss://example.com/p/ws', 'https://example.com/p/token'],
    [at('https:', 'cliscale.example:8443', '/ws/0b5e6c1a'), 'wss://cliscale.example:8443/ws/0b5e6c1a/ws', 'https://cliscale.example:8443/ws/0b5e6c1a/token'],
  ])('%j', (location, ws, token) => {
    expect(webSocketUrl(location)).toBe(ws);
    expect(tokenUrl(location)).toBe(token);
  });

  it('fetchToken: the token, or an empty one on any failure', async () => {
    const answer = (body: string, status = 200) => (async () => new Response(body, { status })) as unknown as typeof fetch;
    expect(await fetchToken('/token', answer('{"token": "abc"}'))).toBe('abc');
    expect(await fetchToken('/token', answer('{"token": 5}'))).toBe('');
    expect(await fetchToken('/token', answer('not json'))).toBe('');
    expect(await fetchToken('/token', answer('{"token": "abc"}', 401))).toBe('');
    expect(await fetchToken('/token', async () => { throw new TypeError('network'); })).toBe('');
  });
});

describe('backoff', () => {
  it('doubles from 0.5 s to at most 30 s, with jitter in the upper half of each window', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const window = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** attempt);
      expect(backoffDelay(attempt, () => 0)).toBe(window / 2);
      expect(backoffDelay(attempt, () => 0.999999)).toBeLessThanOrEqual(window);
    }
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(1000, () => 1)).toBe(BACKOFF_MAX_MS);
  });
});

describe('flow control', () => {
  function harness() {
    const callbacks: Array<() => void> = [];
    const signals: string[] = [];
    const flow = new FlowControl(
      { write: (_data, done) => callbacks.push(done) },
      { pause: () => signals.push('pause'), resume: () => signals.push('resume') },
    );
    return { flow, callbacks, signals };
  }

  it('pauses above the high watermark once, and resumes once below the low watermark', () => {
    const { flow, callbacks, signals } = harness();
    const chunk = new Uint8Array(256 * 1024);
    const chunks = HIGH_WATER_BYTES / chunk.length + 4;
    for (let i = 0; i < chunks; i++) flow.write(chunk);
    expect(signals).toEqual(['pause']);
    expect(flow.paused).toBe(true);
    while (flow.pendingBytes >= LOW_WATER_BYTES) callbacks.shift()!();
    expect(signals).toEqual(['pause', 'resume']);
    while (callbacks.length > 0) callbacks.shift()!();
    expect(signals).toEqual(['pause', 'resume']);
    expect(flow.pendingBytes).toBe(0);
    expect(flow.maxPendingBytes).toBe(chunks * chunk.length);
  });

  it('a new connection starts unpaused; bytes still queued from the old one re-pause it on the next write', () => {
    const { flow, signals } = harness();
    flow.write(new Uint8Array(HIGH_WATER_BYTES + 1));
    flow.newConnection();
    expect(flow.paused).toBe(false);
    flow.write(new Uint8Array(1));
    expect(signals).toEqual(['pause', 'pause']);
  });

  it('runs the parsed callback after xterm applied the chunk', () => {
    const { flow, callbacks } = harness();
    const parsed = jest.fn();
    flow.write('abc', parsed);
    expect(parsed).not.toHaveBeenCalled();
    callbacks.shift()!();
    expect(parsed).toHaveBeenCalledTimes(1);
  });
});

describe('preferences', () => {
  const term = () => ({ options: { fontSize: 14, cursorBlink: true, theme: { background: '#101010', foreground: '#d8d8d8' }, fontFamily: 'monospace', scrollback: 1000, cols: 80, disableStdin: false } as Record<string, unknown> });
  const defaults = { readOnly: false, titleFixed: undefined };

  it('sets xterm options, merges the theme, handles client keys, skips ttyd-only, unknown and forbidden keys', () => {
    const t = term();
    const r = applyPreferences(t, defaults, {
      fontSize: 20,
      theme: { background: '#000' },
      readOnly: true,
      titleFixed: 'job',
      rendererType: 'webgl',
      disableLeaveAlert: true,
      noSuchOption: 1,
      cols: 3,
      disableStdin: true,
    });
    expect(t.options).toMatchObject({ fontSize: 20, theme: { background: '#000', foreground: '#d8d8d8' }, cols: 80, disableStdin: false });
    expect(r.client).toEqual({ readOnly: true, titleFixed: 'job' });
    expect(r.ignored.sort()).toEqual(['cols', 'disableLeaveAlert', 'disableStdin', 'noSuchOption', 'rendererType']);
  });

  it('never throws: values of the wrong type or refused by xterm are skipped', () => {
    const t = term();
    Object.defineProperty(t.options, 'scrollback', { get: () => 1000, set: () => { throw new Error('refused'); }, enumerable: true });
    const r = applyPreferences(t, defaults, { fontSize: 'huge', theme: 'dark', scrollback: 5, cursorBlink: 'yes', fontFamily: 7 });
    expect(r.applied).toEqual([]);
    expect(t.options).toMatchObject({ fontSize: 14, theme: { background: '#101010' }, cursorBlink: true });
  });

  it('reads query parameters typed after the current value, like ttyd', () => {
    const current = { fontSize: 14, cursorBlink: true, theme: {}, fontFamily: 'x', readOnly: false };
    expect(preferencesFromQuery('?fontSize=20&cursorBlink=false&theme=%7B%22background%22%3A%22%23000%22%7D&fontFamily=Fira&readOnly=true&fontSize=bad', current))
      .toEqual({ fontSize: 20, cursorBlink: false, theme: { background: '#000' }, fontFamily: 'Fira', readOnly: true });
  });
});

describe('phone key row bytes', () => {
  it('arrows follow DECCKM, Ctrl+arrow is CSI 1;5', () => {
    expect(arrowBytes('A', false, false)).toBe('\x1b[A');
    expect(arrowBytes('A', true, false)).toBe('\x1bOA');
    expect(arrowBytes('D', false, true)).toBe('\x1b[1;5D');
  });
  it('sticky Ctrl turns a letter (either case) and @[\\]^_ into control characters', () => {
    expect(withCtrl('c')).toBe('\x03');
    expect(withCtrl('C')).toBe('\x03');
    expect(withCtrl('[')).toBe('\x1b');
    expect(withCtrl(' ')).toBe('\x00');
    expect(withCtrl('?')).toBe('\x7f');
    expect(withCtrl('1')).toBe('1');
    expect(withCtrl('ab')).toBe('ab');
  });
});

describe('status bar text', () => {
  it('names every state', () => {
    expect(describeState({ kind: 'connecting' }, false)).toEqual({ text: 'connecting…', tone: 'pending' });
    expect(describeState({ kind: 'live' }, false)).toEqual({ text: 'live', tone: 'live' });
    expect(describeState({ kind: 'live' }, true)).toEqual({ text: 'read-only', tone: 'read-only' });
    expect(describeState({ kind: 'reconnecting', attempt: 3, delayMs: 2400, reason: 'server unreachable' }, false).text)
      .toBe('reconnecting… (server unreachable; retry 3 in 2 s)');
    expect(describeState({ kind: 'ended', exit: { exitCode: 0, signal: null } }, false)).toEqual({ text: 'exited with code 0', tone: 'success' });
    expect(describeState({ kind: 'ended', exit: { exitCode: 3, signal: null } }, false)).toEqual({ text: 'exited with code 3', tone: 'failure' });
    expect(describeState({ kind: 'ended' }, false)).toEqual({ text: 'ended', tone: 'ended' });
  });
  it('formats byte counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100 * 1024 * 1024)).toBe('100 MiB');
  });
});
