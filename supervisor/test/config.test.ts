import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../src/config.js';

describe('configuration', () => {
  it('has defaults that work locally', () => {
    const c = parseConfig(['--', 'bash'], {});
    expect(c).toMatchObject({
      command: { argv: ['bash'], display: 'bash' },
      port: 7681,
      host: '127.0.0.1',
      writable: false,
      exitOnJob: true,
      scrollback: 100_000,
      terminalType: 'xterm-256color',
      columns: 80,
      rows: 24,
      clientOptions: {},
    });
  });

  it('takes every setting from the environment in a pod, and flags win over it', () => {
    const env = { COMMAND: 'npm test && echo "a b"', PORT: '9000', HOST: '0.0.0.0', WRITABLE: 'true', EXIT_ON_JOB: 'false', SCROLLBACK: '500', MAX_CLIENTS: '3', CREDENTIAL: 'u:p' };
    const c = parseConfig([], env);
    expect(c.command.argv).toEqual(['/bin/sh', '-c', 'npm test && echo "a b"']);
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', writable: true, exitOnJob: false, scrollback: 500, maxClients: 3, credential: 'u:p' });
    expect(parseConfig(['--port', '9001', '--', 'x'], env).port).toBe(9001);
  });

  it('parses ttyd-style client options as JSON when they are JSON', () => {
    const c = parseConfig(['-t', 'fontSize=20', '-t', 'titleFixed=build', '-t', 'theme={"background":"#000"}', '--', 'x'], {});
    expect(c.clientOptions).toEqual({ fontSize: 20, titleFixed: 'build', theme: { background: '#000' } });
  });

  it.each([
    [['--port', '70000', '--', 'x'], /port.*between 0 and 65535/],
    [['--port', 'abc', '--', 'x'], /port/],
    [['--size', '10x', '--', 'x'], /COLUMNSxROWS/],
    [['--credential', 'nopassword', '--', 'x'], /user:password/],
    [['--cwd', '/definitely/not/here', '--', 'x'], /working directory/],
    [['--bogus', '--', 'x'], /unknown option/],
    [[], /no command given/],
  ])('explains bad input %j', (argv, message) => {
    expect(() => parseConfig(argv as string[], {})).toThrow(ConfigError);
    expect(() => parseConfig(argv as string[], {})).toThrow(message);
  });

  it('refuses an unparseable boolean rather than guessing', () => {
    expect(() => parseConfig(['--', 'x'], { WRITABLE: 'maybe' })).toThrow(/WRITABLE must be true or false/);
  });
});
