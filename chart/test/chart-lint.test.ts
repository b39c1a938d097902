import { describe, expect, it } from '@jest/globals';
import { runHelm } from './support/helm.js';
import { DATABASE_URL, helmArgs, renderError } from './support/render.js';
import { VALUE_SETS } from './support/value-sets.js';

describe('helm lint --strict', () => {
  it.each(Object.entries(VALUE_SETS))('passes with the %s values', async (_name, options) => {
    const result = await runHelm(helmArgs('lint', options));
    expect(result.stderr + result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it('passes with values.yaml alone (fail() is reported, not fatal, in lint mode)', async () => {
    const result = await runHelm(helmArgs('lint', {}));
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it('fails on values the schema refuses', async () => {
    const result = await runHelm(helmArgs('lint', { set: { 'database.url': DATABASE_URL, 'ingress.provider': 'traefik' } }));
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/ingress\.provider must be one of the following: "gke", "nginx", "other"/);
  });
});

describe('values.schema.json and the template guards', () => {
  it('refuses a misspelled key instead of ignoring it', async () => {
    const stderr = await renderError({ set: { 'database.url': DATABASE_URL, 'controler.replicaCount': 3 } });
    expect(stderr).toMatch(/Additional property controler is not allowed/);
  });

  it('refuses a value of the wrong type or form', async () => {
    expect(await renderError({ set: { 'database.url': DATABASE_URL, 'gateway.replicaCount': 'two' } })).toMatch(/gateway\.replicaCount/);
    expect(await renderError({ set: { 'database.url': 'mysql://db/x' } })).toMatch(/database\.url/);
    expect(await renderError({ set: { 'database.url': DATABASE_URL, 'runners.networkPolicy.blockedCidrs[0]': '10.0.0.0' } })).toMatch(
      /blockedCidrs/,
    );
  });

  it('says how to provide DATABASE_URL when it is missing (the chart runs no database)', async () => {
    const stderr = await renderError({});
    expect(stderr).toContain('database: set database.url (postgres://user:password@host:5432/db) or database.existingSecret');
  });

  it('refuses runners in the release namespace (their Pod Security and quota would apply to the chart)', async () => {
    const stderr = await renderError({ namespace: 'shared', set: { 'database.url': DATABASE_URL, 'runners.namespace.name': 'shared' } });
    expect(stderr).toContain('runners.namespace.name must differ from the release namespace');
  });

  it('refuses TLS without a host or certificate, and an API timeout that would cut ?wait=ready', async () => {
    const base = { 'database.url': DATABASE_URL };
    expect(await renderError({ set: { ...base, 'ingress.tls.enabled': true } })).toContain('ingress.tls.enabled needs ingress.host');
    expect(await renderError({ set: { ...base, 'ingress.tls.enabled': true, 'ingress.host': 'a.example.com' } })).toContain(
      'needs ingress.tls.secretName, or ingress.gke.managedCertificate',
    );
    expect(await renderError({ set: { ...base, 'controller.waitReadyMaxSeconds': 200 } })).toContain(
      'ingress.apiTimeoutSeconds must be above controller.waitReadyMaxSeconds',
    );
  });
});
