import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config.js';
import { matchApiKey, parseApiKeys } from '../src/auth/api-keys.js';
import { errorResponse } from '../src/http/error-handler.js';
import { checkCodeUrl, isPublicAddress, type CodeUrlPolicy } from '../src/sessions/code-url-policy.js';
import { DependencyUnavailable } from '../src/sessions/session-errors.js';
import { tableResolver } from './helpers/controller-harness.js';

describe('configuration', () => {
  it('has defaults that work locally', () => {
    const config = loadConfig([], {});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      trustProxy: false,
      dataDir: '.cliscale',
      token: { ttlSeconds: 300, issuer: 'cliscale', audience: 'cliscale-gateway' },
      codeUrl: { allowedHosts: ['github.com', 'gitlab.com', 'bitbucket.org'], allowHttp: false, allowPrivateHosts: false },
      rateLimit: { sessions: 5, sessionWindowSeconds: 60 },
      runner: { backend: 'local' },
    });
  });

  it('lets flags win over the environment and parses every kind of value', () => {
    const config = loadConfig(['--port', '9000', '--runner', 'kubernetes'], {
      PORT: '1',
      TRUST_PROXY: '10.0.0.0/8, 192.168.0.1',
      PUBLIC_URL: 'https://cliscale.example.com/',
      ALLOWED_CODE_HOSTS: 'GitHub.com, *.corp.example',
      RUNNER_NODE_SELECTOR: '{"pool":"runners"}',
      KUBE_NAMESPACE: 'jobs',
      ALLOW_HTTP_CODE_URLS: 'yes',
      API_KEYS: 'ci:0123456789abcdef0123',
    });
    expect(config.port).toBe(9000);
    expect(config.runner.backend).toBe('kubernetes');
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '192.168.0.1']);
    expect(config.publicUrl).toBe('https://cliscale.example.com');
    expect(config.codeUrl.allowedHosts).toEqual(['github.com', '*.corp.example']);
    expect(config.codeUrl.allowHttp).toBe(true);
    expect(config.runner.kubernetes).toMatchObject({ namespace: 'jobs', nodeSelector: { pool: 'runners' } });
    expect(config.apiKeys.map((k) => k.name)).toEqual(['ci']);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL: must be an http\(s\) URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\/ URL/],
    [{ RUNNER_BACKEND: 'docker' }, /RUNNER_BACKEND/],
    [{ ALLOW_HTTP_CODE_URLS: 'maybe' }, /ALLOW_HTTP_CODE_URLS: must be true or false/],
    [{ RUNNER_NODE_SELECTOR: '{bad' }, /RUNNER_NODE_SELECTOR: must be JSON/],
    [{ KUBE_NAMESPACE: 'Not_Valid' }, /KUBE_NAMESPACE: must be a Kubernetes namespace name/],
    [{ API_KEYS: 'ci:short' }, /API_KEYS: the key named "ci" is shorter than 16 characters/],
    [{ API_KEYS: 'no-colon-here-0123456789' }, /API_KEYS: entry 1 must look like name:key/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadConfig([], env)).toThrow(message);
  });

  it('never repeats a key in an error message', () => {
    expect(() => loadConfig([], { API_KEYS: 'good:0123456789abcdefXYZ,bad:tiny-secret' })).toThrow(/^(?!.*tiny-secret).*$/);
  });
});

describe('API keys', () => {
  it('match by name in constant time; several keys may share a name (rotation)', () => {
    const keys = parseApiKeys('ci:old-key-0123456789abcdef\nci:new-key-0123456789abcdef, ops:ops-key-0123456789abcdef');
    expect(matchApiKey(keys, 'old-key-0123456789abcdef')).toBe('ci');
    expect(matchApiKey(keys, 'new-key-0123456789abcdef')).toBe('ci');
    expect(matchApiKey(keys, 'ops-key-0123456789abcdef')).toBe('ops');
    expect(matchApiKey(keys, 'ops-key-0123456789abcde')).toBeUndefined();
    expect(matchApiKey(keys, '')).toBeUndefined();
  });
});

describe('code URL policy', () => {
  const policy: CodeUrlPolicy = { allowedHosts: ['github.com', '*.corp.example'], allowHttp: false, allowPrivateHosts: false, allowLocal: false };
  const resolve = tableResolver({
    'github.com': ['140.82.121.3'],
    'git.corp.example': ['10.1.2.3'],
    'meta.corp.example': ['169.254.169.254'],
    'v6.corp.example': ['2001:db8::1', '::ffff:127.0.0.1'],
    'ok.corp.example': ['2606:4700::1111', '1.1.1.1'],
  });

  it.each([
    ['10.0.0.1', false],
    ['127.0.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['::ffff:192.168.1.1', false],
    ['224.0.0.1', false],
    ['140.82.121.3', true],
    ['2606:4700::1111', true],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it('accepts allowlisted hosts that resolve to public addresses only', async () => {
    await expect(checkCodeUrl('https://github.com/o/r/tree/main/x', policy, resolve)).resolves.toBe('https://github.com/o/r/tree/main/x');
    await expect(checkCodeUrl('https://ok.corp.example/a.tar.gz', policy, resolve)).resolves.toBeDefined();
    await expect(checkCodeUrl('https://git.corp.example/a.tar.gz', policy, resolve)).rejects.toThrow('resolves to a non-public address (10.1.2.3)');
    await expect(checkCodeUrl('https://meta.corp.example/a', policy, resolve)).rejects.toThrow('(169.254.169.254)');
    await expect(checkCodeUrl('https://v6.corp.example/a', policy, resolve)).rejects.toThrow('non-public address');
    await expect(checkCodeUrl('https://gone.corp.example/a', policy, resolve)).rejects.toThrow('does not resolve');
    await expect(checkCodeUrl('https://corp.example/a', policy, resolve)).rejects.toThrow('host corp.example is not allowed');
    await expect(checkCodeUrl('http://github.com/o/r', policy, resolve)).rejects.toThrow('must use https');
    await expect(checkCodeUrl('/home/me/code', policy, resolve)).rejects.toThrow('must be an https URL');
    await expect(checkCodeUrl('file:///etc', policy, resolve)).rejects.toThrow('may not be a local file');
  });

  it('answers 503, not 400, when the resolver itself fails', async () => {
    const broken = async () => {
      throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
    };
    const err = await checkCodeUrl('https://github.com/o/r', policy, broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailable);
    expect(errorResponse(err, { requestId: 'r', bodyLimitBytes: 1024 })).toMatchObject({ status: 503 });
  });
});
