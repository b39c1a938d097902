import type { V1Deployment, V1Job, V1PodDisruptionBudget, V1PodSpec, V1Service, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { podSecurityProblems } from './support/pod-security.js';
import { render, type Rendered } from './support/render.js';
import { manifestProblems } from './support/validate-manifest.js';
import { VALUE_SETS } from './support/value-sets.js';

const renders: Record<string, Rendered> = {};
beforeAll(async () => {
  await Promise.all(Object.entries(VALUE_SETS).map(async ([name, options]) => (renders[name] = await render(options))));
});

const podSpecs = (r: Rendered): Array<[string, V1PodSpec]> => [
  ...r.all<V1Deployment>('Deployment').map((d) => [`Deployment ${d.metadata!.name}`, d.spec!.template.spec!] as [string, V1PodSpec]),
  ...r.all<V1Job>('Job').map((j) => [`Job ${j.metadata!.name}`, j.spec!.template.spec!] as [string, V1PodSpec]),
];

describe.each(Object.keys(VALUE_SETS))('rendered with the %s values', (name) => {
  const r = () => renders[name]!;

  it('every manifest is valid against the official schemas', () => {
    expect(r().manifests.length).toBeGreaterThan(15);
    expect(r().manifests.flatMap(manifestProblems)).toEqual([]);
  });

  it('every pod passes Pod Security restricted, with a non-root user and a read-only root filesystem', () => {
    const pods = podSpecs(r());
    expect(pods.map(([what]) => what).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/-controller$/), expect.stringMatching(/-gateway$/), expect.stringMatching(/-migrate$/)]),
    );
    expect(pods.flatMap(([what, spec]) => podSecurityProblems(spec).map((p) => `${what}: ${p}`))).toEqual([]);
  });

  it('controller and gateway have liveness on /healthz, readiness on /readyz, on their port, and resources', () => {
    for (const d of r().all<V1Deployment>('Deployment')) {
      const [c] = d.spec!.template.spec!.containers;
      const port = c!.ports!.find((p) => p.name === 'http')!;
      expect({ d: d.metadata!.name, port: port.containerPort }).toEqual({ d: d.metadata!.name, port: d.metadata!.name!.endsWith('-controller') ? 8080 : 8081 });
      expect(c!.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c!.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c!.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
      expect(c!.resources?.limits).toEqual(expect.objectContaining({ memory: expect.anything() }));
      expect(c!.env).toEqual(expect.arrayContaining([{ name: 'HOST', value: '0.0.0.0' }, { name: 'PORT', value: String(port.containerPort) }]));
    }
  });

  it('Services, PodDisruptionBudgets and HPAs select the Deployments they are for', () => {
    const deployments = r().all<V1Deployment>('Deployment');
    expect(deployments).toHaveLength(2);
    const podLabels = (d: V1Deployment) => d.spec!.template.metadata!.labels!;
    const selects = (selector: Record<string, string>) =>
      deployments.filter((d) => Object.entries(selector).every(([k, v]) => podLabels(d)[k] === v)).map((d) => d.metadata!.name);
    for (const d of deployments) expect(selects(d.spec!.selector.matchLabels!)).toEqual([d.metadata!.name]);
    for (const s of r().all<V1Service>('Service')) {
      const [target] = selects(s.spec!.selector!);
      expect(target).toBe(s.metadata!.name);
      const ports = deployments.find((d) => d.metadata!.name === target)!.spec!.template.spec!.containers[0]!.ports!.map((p) => p.name);
      expect(ports).toContain(s.spec!.ports![0]!.targetPort);
    }
    for (const pdb of r().all<V1PodDisruptionBudget>('PodDisruptionBudget')) {
      expect(selects(pdb.spec!.selector!.matchLabels!)).toEqual([pdb.metadata!.name]);
      expect(pdb.spec!.maxUnavailable).toBe(1);
    }
    for (const hpa of r().all<V2HorizontalPodAutoscaler>('HorizontalPodAutoscaler')) {
      expect(deployments.map((d) => d.metadata!.name)).toContain(hpa.spec.scaleTargetRef.name);
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
    }
  });
});

describe('replicas, disruption budgets and autoscaling per environment', () => {
  const shape = (r: Rendered) =>
    r.all<V1Deployment>('Deployment').map((d) => ({
      name: d.metadata!.name,
      replicas: d.spec!.replicas,
      pdb: r.all('PodDisruptionBudget').some((p) => p.metadata.name === d.metadata!.name),
      hpa: r.all<V2HorizontalPodAutoscaler>('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === d.metadata!.name)?.spec?.minReplicas,
    }));

  it('default: two replicas each, with PodDisruptionBudgets, no autoscaling', () => {
    expect(shape(renders.default!)).toEqual([
      { name: 'cliscale-controller', replicas: 2, pdb: true, hpa: undefined },
      { name: 'cliscale-gateway', replicas: 2, pdb: true, hpa: undefined },
    ]);
  });

  it('dev: one replica each, no budgets', () => {
    expect(shape(renders.dev!)).toEqual([
      { name: 'cliscale-controller', replicas: 1, pdb: false, hpa: undefined },
      { name: 'cliscale-gateway', replicas: 1, pdb: false, hpa: undefined },
    ]);
  });

  it('prod: the HPAs own the replica count (no replicas field to fight them)', () => {
    expect(shape(renders.prod!)).toEqual([
      { name: 'cliscale-controller', replicas: undefined, pdb: true, hpa: 2 },
      { name: 'cliscale-gateway', replicas: undefined, pdb: true, hpa: 3 },
    ]);
  });
});
