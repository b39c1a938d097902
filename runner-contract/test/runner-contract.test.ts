import { describe, expect, it } from '@jest/globals';
import {
  encodeReadySignal,
  hostAllowed,
  parseReadySignal,
  runnerAllowedHosts,
  runnerEnvironment,
  SUPERVISOR_ENV_NAMES,
  terminationReason,
  truncateUtf8,
} from '../src/index.js';

describe('the runner contract', () => {
  it('lets the runner follow redirects to subdomains of the allowed hosts (codeload.github.com)', () => {
    expect(runnerAllowedHosts(['github.com', '*.corp.example'])).toEqual(['github.com', '*.github.com', '*.corp.example']);
    expect(hostAllowed('codeload.github.com', runnerAllowedHosts(['github.com']))).toBe(true);
    expect(hostAllowed('github.com.evil.example', runnerAllowedHosts(['github.com']))).toBe(false);
    expect(hostAllowed('corp.example', ['*.corp.example'])).toBe(false);
    expect(hostAllowed('[::1]', ['::1'])).toBe(true);
    expect(hostAllowed('anything.example', [])).toBe(true);
  });

  it('builds the environment with the runner settings winning over the base, and only what was given', () => {
    const env = runnerEnvironment(
      { codeUrl: 'https://github.com/o/r', command: 'npm test', credential: 'cliscale:x', port: 0, exitOnJob: true, checksumSha256: 'AB', allowHttp: false },
      { PORT: '22', COMMAND: 'evil', GREETING: 'hi' },
    );
    expect(env).toEqual({
      CODE_URL: 'https://github.com/o/r',
      COMMAND: 'npm test',
      CREDENTIAL: 'cliscale:x',
      PORT: '0',
      EXIT_ON_JOB: 'true',
      CODE_CHECKSUM_SHA256: 'ab',
      GREETING: 'hi',
    });
    // An empty install command means "skip installing": it must reach the runner as "", not vanish.
    expect(runnerEnvironment({ installCmd: '' })).toEqual({ INSTALL_CMD: '' });
    expect(SUPERVISOR_ENV_NAMES).toEqual(expect.arrayContaining(['CREDENTIAL', 'READY_FD', 'ALLOWED_CODE_HOSTS', 'TERMINATION_MESSAGE_PATH']));
  });

  it('reads a ready signal and nothing else', () => {
    expect(parseReadySignal(encodeReadySignal({ port: 40123 }).trim())).toEqual({ port: 40123 });
    for (const junk of ['', '{', 'null', '[]', '{"port":80}', '{"ready":true,"port":0}', '{"ready":true,"port":70000}', '{"ready":true,"port":"80"}', '{"ready":true,"port":1.5}']) {
      expect(parseReadySignal(junk)).toBeUndefined();
    }
  });

  it('keeps termination messages short, valid UTF-8 and free of control characters', () => {
    const long = 'é'.repeat(2000);
    const cut = truncateUtf8(long, 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('…')).toBe(true);
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
    expect(terminationReason('fetch failed:\x1b[31m 404\r\n')).toBe('fetch failed: [31m 404');
    expect(terminationReason('\n\t ')).toBeUndefined();
    expect(terminationReason(null)).toBeUndefined();
    expect(terminationReason('x'.repeat(5000))!.length).toBe(1024);
  });
});
