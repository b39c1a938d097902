import type {
  V1Deployment,
  V1Namespace,
  V1NetworkPolicy,
  V1NetworkPolicyPeer,
  V1ResourceQuota,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { DATABASE_URL, render, type Rendered } from './support/render.js';
import { VALUE_SETS } from './support/value-sets.js';

let r: Rendered;
let prod: Rendered;
beforeAll(async () => {
  [r, prod] = await Promise.all([render(VALUE_SETS.default), render(VALUE_SETS.prod)]);
});

const GATEWAY_PODS = { 'app.kubernetes.io/name': 'cliscale', 'app.kubernetes.io/instance': 'cliscale', 'app.kubernetes.io/component': 'gateway' };
const CONTROLLER_PODS = { ...GATEWAY_PODS, 'app.kubernetes.io/component': 'controller' };
const RUNNER_PODS = { 'app.kubernetes.io/managed-by': 'cliscale-controller', 'app.kubernetes.io/instance': 'cliscale' };

/** A policy's rules, reduced to what they let through: peers and ports. */
const rules = (rs: Array<{ from?: V1NetworkPolicyPeer[]; to?: V1NetworkPolicyPeer[]; ports?: Array<{ port?: number | string; protocol?: string }> }> | undefined) =>
  (rs ?? []).map((rule) => ({ peers: rule.from ?? rule.to ?? 'anyone', ports: (rule.ports ?? []).map((p) => `${p.port}/${p.protocol}`) }));

describe('RBAC: least privilege', () => {
  it('the controller may manage Jobs and read Pods in the runner namespace, and nothing else', () => {
    const roles = r.all<V1Role>('Role');
    expect(roles).toHaveLength(1);
    expect(roles[0]!.metadata!.namespace).toBe('cliscale-runners');
    expect(roles[0]!.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(r.all('ClusterRole')).toEqual([]);
    expect(r.all('ClusterRoleBinding')).toEqual([]);
  });

  it('only the controller is bound, and only to that Role', () => {
    const bindings = r.all<V1RoleBinding>('RoleBinding');
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.metadata!.namespace).toBe('cliscale-runners');
    expect(bindings[0]!.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cliscale-controller' });
    expect(bindings[0]!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'cliscale-controller', namespace: 'cliscale' }]);
    const controller = r.get<V1Deployment>('Deployment', 'cliscale-controller');
    expect(controller.spec!.template.spec!.serviceAccountName).toBe('cliscale-controller');
  });

  it('the gateway and the runners get no token; the migration hook neither', () => {
    const gatewaySa = r.get<V1ServiceAccount>('ServiceAccount', 'cliscale-gateway');
    const runnerSa = r.get<V1ServiceAccount>('ServiceAccount', 'cliscale-runner');
    expect([gatewaySa.automountServiceAccountToken, runnerSa.automountServiceAccountToken]).toEqual([false, false]);
    expect(runnerSa.metadata!.namespace).toBe('cliscale-runners');
    const gateway = r.get<V1Deployment>('Deployment', 'cliscale-gateway').spec!.template.spec!;
    expect([gateway.serviceAccountName, gateway.automountServiceAccountToken]).toEqual(['cliscale-gateway', false]);
    expect(r.get<{ spec: V1Deployment['spec'] }>('Job', 'cliscale-migrate').spec!.template.spec!.automountServiceAccountToken).toBe(false);
  });
});

describe('NetworkPolicies', () => {
  it('runner pods accept only the gateway pods of this release, only on 7681', () => {
    const p = r.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-runners');
    expect(p.metadata!.namespace).toBe('cliscale-runners');
    expect(p.spec!.podSelector!.matchLabels).toEqual(RUNNER_PODS);
    expect(p.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(rules(p.spec!.ingress)).toEqual([
      {
        peers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cliscale' } }, podSelector: { matchLabels: GATEWAY_PODS } }],
        ports: ['7681/TCP'],
      },
    ]);
  });

  it('runner egress: DNS, and the internet without private, link-local (metadata) or loopback ranges', () => {
    const egress = r.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-runners').spec!.egress!;
    expect(rules(egress)).toEqual([
      { peers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: ['53/UDP', '53/TCP'] },
      { peers: [{ ipBlock: expect.objectContaining({ cidr: '0.0.0.0/0' }) }], ports: [] },
    ]);
    const except = egress[1]!.to![0]!.ipBlock!.except!;
    // The metadata server, and addresses of the usual pod, service and node ranges.
    for (const address of ['169.254.169.254', '10.4.0.7', '172.20.0.10', '192.168.1.1', '100.64.0.1', '127.0.0.1']) {
      expect({ address, blocked: except.some((cidr) => inCidr(address, cidr)) }).toEqual({ address, blocked: true });
    }
    for (const address of ['140.82.112.3', '8.8.8.8']) expect(except.some((cidr) => inCidr(address, cidr))).toBe(false);
  });

  it('prod restricts runner egress to http(s) ports', () => {
    const egress = prod.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-runners').spec!.egress!;
    expect(rules(egress)[1]!.ports).toEqual(['80/TCP', '443/TCP']);
  });

  it('the controller accepts only 8080, and reaches only DNS, PostgreSQL and the Kubernetes API', () => {
    const p = r.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-controller');
    expect(p.spec!.podSelector!.matchLabels).toEqual(CONTROLLER_PODS);
    expect(p.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(rules(p.spec!.ingress)).toEqual([{ peers: 'anyone', ports: ['8080/TCP'] }]);
    expect(rules(p.spec!.egress).map((e) => e.ports)).toEqual([['53/UDP', '53/TCP'], ['5432/TCP'], ['443/TCP', '6443/TCP']]);
  });

  it('the gateway accepts only 8081, and reaches only DNS, PostgreSQL, the controller and this release runners on 7681', () => {
    const p = r.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-gateway');
    expect(p.spec!.podSelector!.matchLabels).toEqual(GATEWAY_PODS);
    expect(rules(p.spec!.ingress)).toEqual([{ peers: 'anyone', ports: ['8081/TCP'] }]);
    expect(rules(p.spec!.egress)).toEqual([
      { peers: expect.anything(), ports: ['53/UDP', '53/TCP'] },
      { peers: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: ['5432/TCP'] },
      { peers: [{ podSelector: { matchLabels: CONTROLLER_PODS } }], ports: ['8080/TCP'] },
      {
        peers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cliscale-runners' } }, podSelector: { matchLabels: RUNNER_PODS } }],
        ports: ['7681/TCP'],
      },
    ]);
  });

  it('prod: only Google front ends reach the gateway; the controller also takes the gateway (JWKS)', () => {
    const fronts = [{ ipBlock: { cidr: '130.211.0.0/22' } }, { ipBlock: { cidr: '35.191.0.0/16' } }];
    expect(rules(prod.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-gateway').spec!.ingress)).toEqual([{ peers: fronts, ports: ['8081/TCP'] }]);
    expect(rules(prod.get<V1NetworkPolicy>('NetworkPolicy', 'cliscale-controller').spec!.ingress)).toEqual([
      { peers: [...fronts, { podSelector: { matchLabels: GATEWAY_PODS } }], ports: ['8080/TCP'] },
    ]);
  });

  it('the database peers and port come from values', async () => {
    const custom = await render({ set: { 'database.url': DATABASE_URL, 'database.port': 6432, 'database.networkPolicyPeers[0].ipBlock.cidr': '10.20.0.3/32' } });
    for (const name of ['cliscale-controller', 'cliscale-gateway']) {
      expect(rules(custom.get<V1NetworkPolicy>('NetworkPolicy', name).spec!.egress)[1]).toEqual({
        peers: [{ ipBlock: { cidr: '10.20.0.3/32' } }],
        ports: ['6432/TCP'],
      });
    }
  });

  it('can be turned off for clusters without a NetworkPolicy implementation', async () => {
    const off = await render({ set: { 'database.url': DATABASE_URL, 'networkPolicy.enabled': false } });
    expect(off.all('NetworkPolicy')).toEqual([]);
  });
});

describe('the runner namespace', () => {
  it('is created with Pod Security restricted enforced, and a ResourceQuota on runner Jobs', () => {
    const ns = r.get<V1Namespace>('Namespace', 'cliscale-runners');
    expect(ns.metadata!.labels).toEqual(
      expect.objectContaining({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      }),
    );
    const quota = r.get<V1ResourceQuota>('ResourceQuota', 'cliscale-runners');
    expect(quota.metadata!.namespace).toBe('cliscale-runners');
    expect(quota.spec!.hard).toEqual(expect.objectContaining({ 'count/jobs.batch': '100', pods: '100' }));
  });

  it('is configurable: an existing namespace, another quota or none', async () => {
    const custom = await render({
      set: { 'database.url': DATABASE_URL, 'runners.namespace.name': 'sandbox', 'runners.namespace.create': false, 'runners.quota.hard.pods': '7' },
    });
    expect(custom.all('Namespace')).toEqual([]);
    expect(custom.get<V1ResourceQuota>('ResourceQuota', 'cliscale-runners').metadata!.namespace).toBe('sandbox');
    expect(custom.get<V1ResourceQuota>('ResourceQuota', 'cliscale-runners').spec!.hard!.pods).toBe('7');
    for (const kind of ['Role', 'RoleBinding', 'NetworkPolicy']) {
      expect(custom.all(kind).filter((m) => m.metadata.namespace === 'sandbox').length).toBeGreaterThan(0);
    }
    const none = await render({ set: { 'database.url': DATABASE_URL, 'runners.quota.enabled': false } });
    expect(none.all('ResourceQuota')).toEqual([]);
  });
});

/** IPv4 only: enough for the ranges above. */
function inCidr(address: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(address) / size) === Math.floor(toInt(base!) / size);
}
