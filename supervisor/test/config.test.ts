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
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  it('lets switches given as flags win over the environment, and a flag name what was wrong with it', () => {
    const env = { EXIT_ON_JOB: 'true', WRITABLE: 'false', CHECK_ORIGIN: 'no', PORT: '9000' };
    expect(parseConfig(['--no-exit', '-W', '-O', '--', 'x'], env)).toMatchObject({ exitOnJob: false, writable: true, checkOrigin: true, port: 9000 });
    expect(parseConfig(['--', 'x'], env)).toMatchObject({ exitOnJob: true, writable: false, checkOrigin: false });
    expect(() => parseConfig(['--max-files', '0', '--', 'x'], {})).toThrow(/--max-files <n>.*between 1 and 10000000/);
    expect(() => parseConfig(['--', 'x'], { MAX_FILES: '0' })).toThrow(/^MAX_FILES: expected an integer between 1 and 10000000, got "0"$/);
  });

  it('takes an empty variable as unset, except an empty install command (skip installing)', () => {
    expect(parseConfig(['--', 'x'], { PORT: '', SCROLLBACK: '' })).toMatchObject({ port: 7681, scrollback: 100_000 });
    const code = (argv: string[], env: Record<string, string>) => parseConfig([...argv, '--', 'x'], { CODE_URL: 'https://a/b.zip', ...env }).code;
    expect(code([], { INSTALL_CMD: '' }).installCommand).toBe('');
    expect(code(['--install-cmd', ''], {}).installCommand).toBe('');
    expect(code(['--install-cmd', 'make'], { INSTALL_CMD: 'npm ci' }).installCommand).toBe('make');
    expect(code([], {}).installCommand).toBeUndefined();
  });

  it('refuses an unparseable boolean rather than guessing', () => {
    expect(() => parseConfig(['--', 'x'], { WRITABLE: 'maybe' })).toThrow(/WRITABLE: must be true or false/);
  });
});
