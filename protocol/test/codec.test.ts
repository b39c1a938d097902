import { describe, expect, it } from '@jest/globals';
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeExitStatus,
  encodeInit,
  encodeInput,
  encodeOutput,
  encodePause,
  encodePreferences,
  encodeResize,
  encodeResume,
  encodeTitle,
  formatJsonC,
  fromUtf8,
  toBytes,
} from '../src/index.js';

const text = (b: Uint8Array) => fromUtf8(b);

describe('client messages', () => {
  it('encodes exactly the bytes ttyd’s browser client sends', () => {
    expect(text(encodeInit({ AuthToken: '', columns: 80, rows: 24 }))).toBe('{"AuthToken":"","columns":80,"rows":24}');
    expect(text(encodeInput('echo hi\r'))).toBe('0echo hi\r');
    expect(text(encodeResize({ columns: 100, rows: 30 }))).toBe('1{"columns":100,"rows":30}');
    expect(text(encodePause())).toBe('2');
    expect(text(encodeResume())).toBe('3');
  });

  it('decodes init, falling back to 80x24 for missing or zero sizes, and keeps capabilities', () => {
    expect(decodeClientMessage(encodeInit({ AuthToken: 'x', columns: 120, rows: 40, capabilities: ['exit-status'] }))).toEqual({
      type: 'init',
      init: { AuthToken: 'x', columns: 120, rows: 40, capabilities: ['exit-status'] },
    });
    expect(decodeClientMessage(toBytes('{"columns":0}'))).toEqual({ type: 'init', init: { columns: 80, rows: 24 } });
  });

  it('refuses sizes out of range and malformed JSON instead of trusting them', () => {
    expect(decodeClientMessage(toBytes('{"columns":100000,"rows":24}')).type).toBe('invalid');
    expect(decodeClientMessage(toBytes('{"columns":-1,"rows":24}')).type).toBe('invalid');
    expect(decodeClientMessage(toBytes('{not json')).type).toBe('invalid');
    expect(decodeClientMessage(toBytes('1{"columns":"wide","rows":2}')).type).toBe('invalid');
    expect(decodeClientMessage(toBytes('1{"columns":90}')).type).toBe('invalid');
    expect(decodeClientMessage(new Uint8Array(0)).type).toBe('invalid');
  });

  it('keeps input bytes exactly, binary included', () => {
    const bytes = Uint8Array.of(0x30, 0x00, 0xff, 0x1b, 0x5b);
    const msg = decodeClientMessage(bytes);
    expect(msg.type).toBe('input');
    expect(Array.from((msg as { data: Uint8Array }).data)).toEqual([0x00, 0xff, 0x1b, 0x5b]);
  });

  it('reports unknown command bytes without failing', () => {
    expect(decodeClientMessage(toBytes('9abc'))).toEqual({ type: 'unknown', command: 0x39 });
  });

  it('round-trips pause, resume and resize', () => {
    expect(decodeClientMessage(encodePause())).toEqual({ type: 'pause' });
    expect(decodeClientMessage(encodeResume())).toEqual({ type: 'resume' });
    expect(decodeClientMessage(encodeResize({ columns: 7, rows: 3 }))).toEqual({ type: 'resize', size: { columns: 7, rows: 3 } });
  });
});

describe('server messages', () => {
  it('formats preferences as json-c does (ttyd’s exact bytes)', () => {
    expect(text(encodePreferences({}))).toBe('2{ }');
    expect(formatJsonC({ fontSize: 20, disableLeaveAlert: true, titleFixed: 'hello', theme: { background: '#000' }, rendererType: 'dom' })).toBe(
      '{ "fontSize": 20, "disableLeaveAlert": true, "titleFixed": "hello", "theme": { "background": "#000" }, "rendererType": "dom" }',
    );
  });

  it('round-trips output, title, preferences and exit status', () => {
    expect(decodeServerMessage(encodeTitle('bash (vm)'))).toEqual({ type: 'title', title: 'bash (vm)' });
    expect(decodeServerMessage(encodePreferences({ a: [1, 2] }))).toEqual({ type: 'preferences', preferences: { a: [1, 2] } });
    expect(decodeServerMessage(encodeExitStatus({ exitCode: 3, signal: null }))).toEqual({ type: 'exit-status', status: { exitCode: 3, signal: null } });
    const out = decodeServerMessage(encodeOutput(Uint8Array.of(0xe2, 0x82)));
    expect(out.type).toBe('output');
    expect(Array.from((out as { data: Uint8Array }).data)).toEqual([0xe2, 0x82]);
  });

  it('flags broken JSON payloads', () => {
    expect(decodeServerMessage(toBytes('2{oops')).type).toBe('invalid');
    expect(decodeServerMessage(toBytes('3{"signal":null}')).type).toBe('invalid');
  });
});
