import type { V1Deployment } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig as loadControllerConfig } from '../../controller/src/config.js';
import { loadConfig as loadGatewayConfig } from '../../gateway/src/config.js';
import { containerEnv } from './support/pod-env.js';
import { render, type Rendered } from './support/render.js';
import { EXISTING_SECRETS, VALUE_SETS } from './support/value-sets.js';

/** What the Secrets created before the chart would hold: EXISTING_SECRETS, and dev/prod's database Secret. */
const EXISTING: Record<string, Record<string, string>> = {
  [EXISTING_SECRETS['apiKeys.existingSecret']]: { keys: 'ci:0123456789abcdef0123' },
  [EXISTING_SECRETS['database.existingSecret']]: { url: 'postgres://u:p@db:5432/x' },
  'cliscale-database': { DATABASE_URL: 'postgres://u:p@cloudsql:5432/cliscale' },
};

const renders: Record<string, Rendered> = {};
beforeAll(async () => {
  await Promise.all(Object.entries(VALUE_SETS).map(async ([name, options]) => (renders[name] = await render(options))));
});

const envOf = (r: Rendered, component: 'controller' | 'gateway') => {
  const deployment = r.all<V1Deployment>('Deployment').find((d) => d.metadata!.name!.endsWith(`-${component}`))!;
  return containerEnv(r, deployment.spec!.template.spec!.containers[0]!, EXISTING);
};

/**
 * The chart writes environment variables; the components parse them with their own loaders (zod schemas that
 * refuse invalid values). Loading the rendered environment with those very loaders catches a misspelled or
 * malformed variable here rather than in a crash-looping pod.
 */
describe.each(Object.keys(VALUE_SETS))('with the %s values', (name) => {
  it('the controller accepts its environment and runs the Kubernetes backend on 0.0.0.0:8080', () => {
    const config = loadControllerConfig([], envOf(renders[name]!, 'controller'));
    expect(config.runner.backend).toBe('kubernetes');
    expect([config.host, config.port]).toEqual(['0.0.0.0', 8080]);
    expect(config.apiKeys.length).toBeGreaterThan(0);
    expect(config.databaseUrl).toMatch(/^postgres/);
    expect(config.jwt.keysDir).toBe('/var/run/cliscale/jwt');
  });

  it('the gateway accepts its environment and finds the JWKS at the controller', () => {
    const config = loadGatewayConfig([], envOf(renders[name]!, 'gateway'));
    expect([config.host, config.port]).toEqual(['0.0.0.0', 8081]);
    expect(config.databaseUrl).toMatch(/^postgres/);
    expect(config.jwksUrl).toMatch(/^http:\/\/[a-z0-9-]+-controller\.[a-z0-9-]+\.svc:80\/\.well-known\/jwks\.json$/);
  });
});

describe('values reach the components', () => {
  it('controller settings from values.yaml arrive parsed (nothing silently left at its default)', async () => {
    const r = await render({
      ...VALUE_SETS.default,
      set: {
        ...VALUE_SETS.default!.set,
        'controller.sessionMaxSeconds': 900,
        'controller.allowedCodeHosts': 'github.com\\,*.corp.example',
        'controller.maxActiveSessionsPerKey': 7,
        'token.ttlSeconds': 120,
        'runners.ttlSecondsAfterFinished': 30,
        'runners.workspaceSize': '5Gi',
        'runners.runtimeClassName': 'gvisor',
        'runners.nodeSelector.pool': 'runners',
        'controller.env.AUDIT_RETENTION_DAYS': 10,
      },
    });
    const c = loadControllerConfig([], envOf(r, 'controller'));
    expect(c.session.maxSeconds).toBe(900);
    expect(c.codeUrl.allowedHosts).toEqual(['github.com', '*.corp.example']);
    expect(c.session.maxActivePerKey).toBe(7);
    expect(c.token.ttlSeconds).toBe(120);
    expect(c.retention.auditDays).toBe(10);
    expect(c.runner.kubernetes).toEqual(
      expect.objectContaining({ ttlSecondsAfterFinished: 30, workspaceSizeLimit: '5Gi', runtimeClassName: 'gvisor', nodeSelector: { pool: 'runners' } }),
    );
  });

  it('gateway settings arrive too', async () => {
    const r = await render({ ...VALUE_SETS.default, set: { ...VALUE_SETS.default!.set, 'gateway.runnerWaitSeconds': 45, 'gateway.publicOrigins': 'https://a.example' } });
    const g = loadGatewayConfig([], envOf(r, 'gateway'));
    expect(g.runnerWaitSeconds).toBe(45);
    expect(g.publicOrigins).toEqual(['https://a.example']);
  });
});
