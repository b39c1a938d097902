import type { V1Deployment, V1EnvVar, V1Ingress, V1Service } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { renderNotes } from './support/notes.js';
import { DATABASE_URL, render, type Manifest, type Rendered } from './support/render.js';
import { VALUE_SETS } from './support/value-sets.js';

let gke: Rendered;
let nginx: Rendered;
let prod: Rendered;
beforeAll(async () => {
  [gke, nginx, prod] = await Promise.all([render(VALUE_SETS.default), render(VALUE_SETS['nginx with tls']), render(VALUE_SETS.prod)]);
});

const env = (r: Rendered, deployment: string): Record<string, string | undefined> =>
  Object.fromEntries(
    r.get<V1Deployment>('Deployment', deployment).spec!.template.spec!.containers[0]!.env!.map((e: V1EnvVar) => [e.name, e.value]),
  );

/** path -> "service:port" of the one Ingress. */
const routes = (ingress: V1Ingress) =>
  Object.fromEntries(
    ingress.spec!.rules!.flatMap((rule) =>
      rule.http!.paths.map((p) => [`${rule.host ?? '*'}${p.path} (${p.pathType})`, `${p.backend.service!.name}:${p.backend.service!.port!.name}`]),
    ),
  );

describe('one Ingress, one IP, routed by path', () => {
  it('sends /api and /.well-known to the controller and /ws to the gateway', () => {
    const ingresses = gke.all<V1Ingress>('Ingress');
    expect(ingresses).toHaveLength(1);
    expect(routes(ingresses[0]!)).toEqual({
      '*/api (Prefix)': 'cliscale-controller:http',
      '*/.well-known (Prefix)': 'cliscale-controller:http',
      '*/ws (Prefix)': 'cliscale-gateway:http',
    });
    // The port names exist on the Services.
    for (const name of ['cliscale-controller', 'cliscale-gateway']) {
      expect(gke.get<V1Service>('Service', name).spec!.ports!.map((p) => p.name)).toEqual(['http']);
    }
  });

  it('routes the host only when one is set, with TLS from a Secret', () => {
    const ingress = nginx.get<V1Ingress>('Ingress', 'term-cliscale');
    expect(Object.keys(routes(ingress))).toEqual(['term.example.org/api (Prefix)', 'term.example.org/.well-known (Prefix)', 'term.example.org/ws (Prefix)']);
    expect(ingress.spec!.tls).toEqual([{ hosts: ['term.example.org'], secretName: 'term-tls' }]);
    expect(ingress.spec!.ingressClassName).toBe('nginx');
  });
});

describe('WebSockets live for an hour, not 30 s', () => {
  it('gke: the gateway Service points to a BackendConfig with timeoutSec 3600', () => {
    const service = gke.get<V1Service>('Service', 'cliscale-gateway');
    const annotations = service.metadata!.annotations!;
    const backendConfig = JSON.parse(annotations['cloud.google.com/backend-config']!) as { default: string };
    const config = gke.get<Manifest & { spec: { timeoutSec: number; healthCheck: { requestPath: string; port: number } } }>('BackendConfig', backendConfig.default);
    expect(config.apiVersion).toBe('cloud.google.com/v1');
    expect(config.spec.timeoutSec).toBe(3600);
    expect(config.spec.healthCheck).toEqual({ type: 'HTTP', requestPath: '/readyz', port: 8081 });
    expect(JSON.parse(annotations['cloud.google.com/neg']!)).toEqual({ ingress: true });
    const ingress = gke.get<V1Ingress>('Ingress', 'cliscale');
    expect(ingress.metadata!.annotations!['kubernetes.io/ingress.class']).toBe('gce');
  });

  it('gke: the API backend outlives the longest ?wait=ready', () => {
    const annotation = gke.get<V1Service>('Service', 'cliscale-controller').metadata!.annotations!['cloud.google.com/backend-config']!;
    const config = gke.get<Manifest & { spec: { timeoutSec: number; healthCheck: { port: number } } }>('BackendConfig', (JSON.parse(annotation) as { default: string }).default);
    expect(config.spec.timeoutSec).toBeGreaterThan(Number(env(gke, 'cliscale-controller').WAIT_READY_MAX_SECONDS));
    expect(config.spec.healthCheck.port).toBe(8080);
  });

  it('nginx: proxy read and send timeouts of 3600 s on the Ingress, and no GKE objects', () => {
    const annotations = nginx.get<V1Ingress>('Ingress', 'term-cliscale').metadata!.annotations!;
    expect(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('3600');
    expect(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']).toBe('3600');
    expect(nginx.all('BackendConfig')).toEqual([]);
    expect(nginx.get<V1Service>('Service', 'term-cliscale-gateway').metadata!.annotations).toBeUndefined();
  });

  it('the timeout is a value', async () => {
    const r = await render({ set: { 'database.url': DATABASE_URL, 'ingress.websocketTimeoutSeconds': 7200 } });
    expect(r.get<Manifest & { spec: { timeoutSec: number } }>('BackendConfig', 'cliscale-ws').spec.timeoutSec).toBe(7200);
  });
});

describe('prod: https on a reserved IP with a Google-managed certificate', () => {
  it('has the static IP, the certificate for the host, and no plain http', () => {
    const annotations = prod.get<V1Ingress>('Ingress', 'cliscale').metadata!.annotations!;
    expect(annotations['kubernetes.io/ingress.global-static-ip-name']).toBe('cliscale-ip');
    expect(annotations['networking.gke.io/managed-certificates']).toBe('cliscale');
    expect(annotations['kubernetes.io/ingress.allow-http']).toBe('false');
    expect(prod.get<Manifest & { spec: { domains: string[] } }>('ManagedCertificate', 'cliscale').spec.domains).toEqual(['cliscale.example.com']);
  });
});

describe('what the controller and the gateway are told about the outside', () => {
  it('without a host: URLs come from each request, behind two trusted hops (GFE + load balancer)', () => {
    expect(env(gke, 'cliscale-controller').PUBLIC_URL).toBeUndefined();
    expect(env(gke, 'cliscale-gateway').PUBLIC_ORIGINS).toBeUndefined();
    expect([env(gke, 'cliscale-controller').TRUST_PROXY, env(gke, 'cliscale-gateway').TRUST_PROXY]).toEqual(['2', '2']);
  });

  it('with a host: PUBLIC_URL and PUBLIC_ORIGINS follow it (https with TLS); nginx is one hop', () => {
    expect(env(nginx, 'term-cliscale-controller').PUBLIC_URL).toBe('https://term.example.org');
    expect(env(nginx, 'term-cliscale-gateway').PUBLIC_ORIGINS).toBe('https://term.example.org');
    expect(env(nginx, 'term-cliscale-controller').TRUST_PROXY).toBe('1');
  });

  it('the gateway fetches the JWKS from the controller Service, in-cluster', () => {
    const jwks = new URL(env(nginx, 'term-cliscale-gateway').JWKS_URL!);
    const service = nginx.get<V1Service>('Service', 'term-cliscale-controller');
    expect(jwks.hostname).toBe(`${service.metadata!.name}.apps.svc`);
    expect(Number(jwks.port || 80)).toBe(service.spec!.ports![0]!.port);
    expect(jwks.pathname).toBe('/.well-known/jwks.json');
  });

  it('both sides agree on the token issuer and audience', () => {
    const c = env(prod, 'cliscale-controller');
    const g = env(prod, 'cliscale-gateway');
    expect([g.TOKEN_ISSUER, g.TOKEN_AUDIENCE]).toEqual([c.TOKEN_ISSUER, c.TOKEN_AUDIENCE]);
  });
});

describe('without the Ingress', () => {
  it('renders no Ingress nor GKE objects, trusts no proxy, and NOTES says how to port-forward', async () => {
    const options = { set: { 'database.url': DATABASE_URL, 'ingress.enabled': false } };
    const [r, notes] = await Promise.all([render(options), renderNotes(options)]);
    expect([...r.all('Ingress'), ...r.all('BackendConfig'), ...r.all('ManagedCertificate')]).toEqual([]);
    expect(r.get<V1Service>('Service', 'cliscale-gateway').metadata!.annotations).toBeUndefined();
    expect(env(r, 'cliscale-controller').TRUST_PROXY).toBe('false');
    expect(notes).toContain('kubectl port-forward -n cliscale svc/cliscale-controller 8080:80');
  });
});

describe('NOTES.txt', () => {
  it("prints the seed README's commands for the IP and the generated API key", async () => {
    const notes = await renderNotes(VALUE_SETS.default);
    expect(notes).toContain(
      "export LB_IP=$(kubectl get ingress cliscale -n cliscale -o jsonpath='{.status.loadBalancer.ingress[0].ip}')",
    );
    expect(notes).toContain("export API_KEY=$(kubectl get secret cliscale-api-keys -n cliscale -o jsonpath='{.data.API_KEY}' | base64 -d)");
    expect(notes).toContain('curl -sX POST "http://$LB_IP/api/sessions" -H "Authorization: Bearer $API_KEY"');
  });

  it('names an existing API key Secret, and the public URL when there is one', async () => {
    const notes = await renderNotes({ ...VALUE_SETS.prod, set: { 'apiKeys.existingSecret': 'team-api-keys' } });
    expect(notes).toContain("kubectl get secret team-api-keys -n cliscale -o jsonpath='{.data.API_KEYS}' | base64 -d");
    expect(notes).toContain('curl -sX POST "https://cliscale.example.com/api/sessions"');
  });
});
