import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Deployment, V1EnvVar, V1Job, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { matchApiKey, parseApiKeys } from '../../controller/src/auth/api-keys.js';
import { loadSigningKeys } from '../../controller/src/tokens/signing-keys.js';
import { startFakeKubeApi, type FakeKubeApi } from './support/fake-kube-api.js';
import { DATABASE_URL, render, type Rendered } from './support/render.js';
import { EXISTING_SECRETS, VALUE_SETS } from './support/value-sets.js';

const decode = (secret: V1Secret) =>
  Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

const secretRef = (container: { env?: V1EnvVar[] }, name: string) => container.env!.find((e) => e.name === name)?.valueFrom?.secretKeyRef;

/** Writes a rendered JWT Secret as the mounted folder the controller reads (JWT_KEYS_DIR) and loads it as the controller does. */
async function loadAsController(files: Record<string, string>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cliscale-chart-jwt-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    return await loadSigningKeys({ keysDir: dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('generated on install', () => {
  let first: Rendered;
  let second: Rendered;
  beforeAll(async () => {
    [first, second] = await Promise.all([render(VALUE_SETS.default), render(VALUE_SETS.default)]);
  });

  it('an API key the controller accepts, as API_KEYS, and alone as API_KEY for clients', () => {
    const { API_KEY, API_KEYS } = decode(first.get<V1Secret>('Secret', 'cliscale-api-keys'));
    expect(API_KEY).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(matchApiKey(parseApiKeys(API_KEYS!), API_KEY!)).toBe('default');
    const controller = first.get<V1Deployment>('Deployment', 'cliscale-controller').spec!.template.spec!.containers[0]!;
    expect(secretRef(controller, 'API_KEYS')).toEqual({ name: 'cliscale-api-keys', key: 'API_KEYS' });
  });

  it('an RSA signing key the controller loads from the mounted Secret', async () => {
    const files = decode(first.get<V1Secret>('Secret', 'cliscale-jwt'));
    expect(Object.keys(files)).toEqual(['signing-key.pem']);
    const keys = await loadAsController(files);
    expect(keys.all).toHaveLength(1);
    expect(keys.current.privateKey.asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
    const pod = first.get<V1Deployment>('Deployment', 'cliscale-controller').spec!.template.spec!;
    const volume = pod.volumes!.find((v) => v.secret?.secretName === 'cliscale-jwt')!;
    const mount = pod.containers[0]!.volumeMounts!.find((m) => m.name === volume.name)!;
    const keysDir = pod.containers[0]!.env!.find((e) => e.name === 'JWT_KEYS_DIR')!.value;
    expect(mount.mountPath).toBe(keysDir);
  });

  it('different for every install (nothing is baked into the chart)', () => {
    const a = decode(first.get<V1Secret>('Secret', 'cliscale-api-keys')).API_KEY;
    const b = decode(second.get<V1Secret>('Secret', 'cliscale-api-keys')).API_KEY;
    expect(a).not.toBe(b);
    expect(decode(first.get<V1Secret>('Secret', 'cliscale-jwt'))['signing-key.pem']).not.toBe(
      decode(second.get<V1Secret>('Secret', 'cliscale-jwt'))['signing-key.pem'],
    );
  });

  it('DATABASE_URL from database.url, in a Secret both components read', () => {
    expect(decode(first.get<V1Secret>('Secret', 'cliscale-database'))).toEqual({ DATABASE_URL });
    for (const name of ['cliscale-controller', 'cliscale-gateway']) {
      const container = first.get<V1Deployment>('Deployment', name).spec!.template.spec!.containers[0]!;
      expect(secretRef(container, 'DATABASE_URL')).toEqual({ name: 'cliscale-database', key: 'DATABASE_URL' });
    }
  });
});

describe('kept across upgrades (lookup, against a fake API server on 127.0.0.1)', () => {
  let api: FakeKubeApi;
  let storedPem: string;
  beforeAll(async () => {
    storedPem = decode((await render(VALUE_SETS.default)).get<V1Secret>('Secret', 'cliscale-jwt'))['signing-key.pem']!;
    api = await startFakeKubeApi([
      { namespace: 'cliscale', name: 'cliscale-api-keys', data: { API_KEY: 'k'.repeat(40), API_KEYS: `default:${'k'.repeat(40)}` } },
      { namespace: 'cliscale', name: 'cliscale-jwt', data: { 'signing-key.pem': storedPem } },
      { namespace: 'cliscale', name: 'cliscale-database', data: { DATABASE_URL: 'postgres://kept:pw@db:5432/kept' } },
    ]);
  });
  afterAll(async () => api?.close());

  const upgrade = (set: Record<string, string> = {}) =>
    render({ set, args: ['--dry-run=server', '--is-upgrade'], kubeconfig: api.kubeconfig });

  it('the API key, the signing key and DATABASE_URL stay what the release stored', async () => {
    const r = await upgrade();
    expect(decode(r.get<V1Secret>('Secret', 'cliscale-api-keys'))).toEqual({ API_KEY: 'k'.repeat(40), API_KEYS: `default:${'k'.repeat(40)}` });
    expect(decode(r.get<V1Secret>('Secret', 'cliscale-jwt'))).toEqual({ 'signing-key.pem': storedPem });
    expect(decode(r.get<V1Secret>('Secret', 'cliscale-database'))).toEqual({ DATABASE_URL: 'postgres://kept:pw@db:5432/kept' });
    // The migration hook migrates that same database.
    expect(decode(r.get<V1Secret>('Secret', 'cliscale-migrate'))).toEqual({ DATABASE_URL: 'postgres://kept:pw@db:5432/kept' });
    expect(api.requests).toEqual(
      expect.arrayContaining(['/api/v1/namespaces/cliscale/secrets/cliscale-api-keys', '/api/v1/namespaces/cliscale/secrets/cliscale-jwt']),
    );
  });

  it('a database.url given on upgrade replaces the stored one', async () => {
    const r = await upgrade({ 'database.url': DATABASE_URL });
    expect(decode(r.get<V1Secret>('Secret', 'cliscale-database'))).toEqual({ DATABASE_URL });
  });

  it('another release in the namespace finds nothing to keep and generates its own', async () => {
    const r = await render({ release: 'other', set: { 'database.url': DATABASE_URL }, args: ['--dry-run=server'], kubeconfig: api.kubeconfig });
    expect(decode(r.get<V1Secret>('Secret', 'other-cliscale-api-keys')).API_KEY).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(api.requests).toContain('/api/v1/namespaces/cliscale/secrets/other-cliscale-api-keys');
  });
});

describe('existing Secrets named in values', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await render(VALUE_SETS['existing secrets']);
  });

  it('are referenced with their keys, and the chart creates no Secret of its own', () => {
    expect(r.all('Secret')).toEqual([]);
    const controller = r.get<V1Deployment>('Deployment', 'cliscale-controller').spec!.template.spec!;
    const gateway = r.get<V1Deployment>('Deployment', 'cliscale-gateway').spec!.template.spec!;
    const migrate = r.get<V1Job>('Job', 'cliscale-migrate').spec!.template.spec!;
    expect(secretRef(controller.containers[0]!, 'API_KEYS')).toEqual({ name: EXISTING_SECRETS['apiKeys.existingSecret'], key: 'keys' });
    for (const pod of [controller, gateway, migrate]) {
      expect(secretRef(pod.containers[0]!, 'DATABASE_URL')).toEqual({ name: EXISTING_SECRETS['database.existingSecret'], key: 'url' });
    }
    expect(controller.volumes!.map((v) => v.secret?.secretName).filter(Boolean)).toEqual([EXISTING_SECRETS['jwt.existingSecret']]);
  });
});

describe('the migration hook', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await render(VALUE_SETS.default);
  });

  it('is a pre-install/pre-upgrade Job that runs npm run migrate in the controller image and completes', () => {
    const job = r.get<V1Job>('Job', 'cliscale-migrate');
    expect(job.metadata!.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const pod = job.spec!.template.spec!;
    // One container and no sidecar (a long-running second container would keep the Job, and the upgrade, waiting).
    expect(pod.containers.map((c) => c.name)).toEqual(['migrate']);
    expect(pod.initContainers).toBeUndefined();
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0]!.command).toEqual(['npm', 'run', 'migrate']);
    const controller = r.get<V1Deployment>('Deployment', 'cliscale-controller').spec!.template.spec!.containers[0]!;
    expect(pod.containers[0]!.image).toBe(controller.image);
    expect(job.spec!.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  it('gets DATABASE_URL from a hook Secret created before it (the release Secret does not exist yet on install)', () => {
    const job = r.get<V1Job>('Job', 'cliscale-migrate');
    const ref = secretRef(job.spec!.template.spec!.containers[0]!, 'DATABASE_URL')!;
    const secret = r.get<V1Secret>('Secret', ref.name!);
    const annotations = secret.metadata!.annotations!;
    expect(annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(annotations['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata!.annotations!['helm.sh/hook-weight']));
    expect(decode(secret)[ref.key]).toBe(DATABASE_URL);
  });

  it('can be turned off', async () => {
    const off = await render({ set: { 'database.url': DATABASE_URL, 'migrations.enabled': false } });
    expect(off.all('Job')).toEqual([]);
    expect(off.all<V1Secret>('Secret').map((s) => s.metadata!.name)).not.toContain('cliscale-migrate');
  });
});
