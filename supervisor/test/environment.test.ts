import { describe, expect, it } from '@jest/globals';
import { PROMPT_ENV, SUPERVISOR_ENV_NAMES, runnerEnvironment } from '@cliscale/runner-contract';
import { helpText, SUPERVISOR_VARIABLES } from '../src/config.js';

/**
 * The controller refuses every name in the runner contract's SUPERVISOR_ENV_NAMES as a session's own `env`,
 * so a caller cannot reconfigure a runner through it: the list must be exactly what the supervisor reads.
 */
describe("the supervisor's environment and the runner contract", () => {
  const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

  it('reads exactly the variables the contract names', () => {
    expect(sorted(Object.keys(SUPERVISOR_VARIABLES.shape))).toEqual(sorted(SUPERVISOR_ENV_NAMES));
  });

  it('documents every one of them in --help, and no other', () => {
    const help = helpText();
    const mentioned = [...help.matchAll(/\benv:?\s+([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!);
    expect(mentioned.length).toBeGreaterThan(30);
    expect(sorted(mentioned)).toEqual(sorted(SUPERVISOR_ENV_NAMES));
  });

  it('reads every variable the controller sets for it (the prompt is the command’s)', () => {
    const env = runnerEnvironment({
      codeUrl: 'https://github.com/o/r',
      command: 'npm start',
      installCmd: '',
      prompt: 'hello',
      checksumSha256: 'ab'.repeat(32),
      credential: 'u:p',
      allowedCodeHosts: ['github.com'],
      allowHttp: true,
      allowLocalCode: true,
      port: 7681,
      host: '0.0.0.0',
      writable: true,
      exitOnJob: false,
      exitWithStdin: true,
      codeDir: '/tmp/code',
      terminationMessagePath: '/dev/termination-log',
      readyFd: 3,
    });
    const set = Object.keys(env).filter((name) => name !== PROMPT_ENV);
    expect(set.filter((name) => !(name in SUPERVISOR_VARIABLES.shape))).toEqual([]);
  });
});
