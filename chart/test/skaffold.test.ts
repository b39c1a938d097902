import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Deployment, V1Job } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { applyPatches, type PatchOperation } from './support/json-patch.js';
import { render, REPO_DIR, type Rendered } from './support/render.js';

interface HelmRelease {
  name: string;
  chartPath: string;
  namespace: string;
  valuesFiles: string[];
  setValueTemplates: Record<string, string>;
  setValues?: Record<string, string>;
}
interface SkaffoldConfig {
  build: { artifacts: Array<{ image: string; context: string; docker: { dockerfile: string } }>; local?: object; googleCloudBuild?: object };
  deploy: { helm: { releases: HelmRelease[] } };
  profiles: Array<{ name: string; patches: PatchOperation[] }>;
}

const skaffold = parse(readFileSync(path.join(REPO_DIR, 'skaffold.yaml'), 'utf8')) as SkaffoldConfig;
const chartValues = parse(readFileSync(path.join(REPO_DIR, 'chart/values.yaml'), 'utf8')) as Record<string, unknown>;
const profile = (name: string) => applyPatches(skaffold, skaffold.profiles.find((p) => p.name === name)!.patches);

/** What skaffold substitutes in setValueTemplates (names with - and / turned into _): a fake registry and digest. */
const DIGEST = `sha256:${'a'.repeat(64)}`;
function substitute(template: string): string {
  return template.replace(/\{\{\.IMAGE_(REPO|TAG|DIGEST)_(\w+)\}\}/g, (_m, what: string, artifact: string) => {
    const image = skaffold.build.artifacts.find((a) => a.image.replace(/[-/]/g, '_') === artifact);
    if (!image) throw new Error(`template names an unknown artifact: ${artifact}`);
    return { REPO: `europe-docker.pkg.dev/p/apps/${image.image}`, TAG: 'abc1234', DIGEST }[what]!;
  });
}

const has = (object: unknown, dotted: string) =>
  dotted.split('.').reduce<unknown>((o, key) => (o && typeof o === 'object' && key in o ? (o as Record<string, unknown>)[key] : undefined), object) !== undefined;

describe('skaffold.yaml', () => {
  it('builds the three images from the repository root with their Dockerfiles', () => {
    expect(skaffold.build.artifacts.map((a) => [a.image, a.context, a.docker.dockerfile])).toEqual([
      ['cliscale-controller', '.', 'controller/Dockerfile'],
      ['cliscale-gateway', '.', 'gateway/Dockerfile'],
      ['cliscale-runner', '.', 'supervisor/Dockerfile'],
    ]);
    for (const a of skaffold.build.artifacts) expect(existsSync(path.join(REPO_DIR, a.docker.dockerfile))).toBe(true);
  });

  it('names the images as the chart does by default', () => {
    const repos = ['controller', 'gateway', 'runners'].map((c) => ((chartValues[c] as { image: { repository: string } }).image.repository));
    expect(repos).toEqual(skaffold.build.artifacts.map((a) => a.image));
  });

  it('has the dev, staging and prod profiles, and their patches apply', () => {
    expect(skaffold.profiles.map((p) => p.name)).toEqual(['dev', 'staging', 'prod']);
    for (const p of skaffold.profiles) expect(() => profile(p.name)).not.toThrow();
    expect(profile('prod').build.googleCloudBuild).toEqual({});
    expect(profile('prod').build.local).toBeUndefined();
  });

  it('sets only values the chart has, for every image', () => {
    const templates = skaffold.deploy.helm.releases[0]!.setValueTemplates;
    for (const key of Object.keys(templates)) expect({ key, known: has(chartValues, key) }).toEqual({ key, known: true });
    expect(Object.keys(templates).sort()).toEqual(
      ['controller', 'gateway', 'runners'].flatMap((c) => [`${c}.image.repository`, `${c}.image.tag`]).sort(),
    );
  });
});

describe.each([
  ['dev', 'cliscale', 'cliscale-dev', 'values-dev.yaml'],
  ['staging', 'cliscale-staging', 'cliscale-staging', 'values-prod.yaml'],
  ['prod', 'cliscale', 'cliscale', 'values-prod.yaml'],
])('the %s profile deploys', (name, release, namespace, valuesFile) => {
  let helm: HelmRelease;
  let r: Rendered;
  beforeAll(async () => {
    helm = profile(name).deploy.helm.releases[0]!;
    const set = { ...helm.setValues, ...Object.fromEntries(Object.entries(helm.setValueTemplates).map(([k, v]) => [k, substitute(v)])) };
    r = await render({ release: helm.name, namespace: helm.namespace, valuesFiles: helm.valuesFiles.map((f) => path.relative('chart', f)), set });
  });

  it(`release ${release} in ${namespace}, with chart/${valuesFile}`, () => {
    expect([helm.name, helm.namespace, helm.chartPath]).toEqual([release, namespace, 'chart']);
    expect(helm.valuesFiles).toEqual(['chart/values.yaml', `chart/${valuesFile}`]);
    for (const f of helm.valuesFiles) expect(existsSync(path.join(REPO_DIR, f))).toBe(true);
  });

  it('the images it built, by digest, in the Deployments, the migration hook and RUNNER_IMAGE', () => {
    const image = (component: string) => `europe-docker.pkg.dev/p/apps/cliscale-${component}:abc1234@${DIGEST}`;
    const deployments = r.all<V1Deployment>('Deployment');
    const containerOf = (suffix: string) => deployments.find((d) => d.metadata!.name!.endsWith(suffix))!.spec!.template.spec!.containers[0]!;
    expect(containerOf('-controller').image).toBe(image('controller'));
    expect(containerOf('-gateway').image).toBe(image('gateway'));
    expect(containerOf('-controller').env!.find((e) => e.name === 'RUNNER_IMAGE')!.value).toBe(image('runner'));
    expect(r.all<V1Job>('Job')[0]!.spec!.template.spec!.containers[0]!.image).toBe(image('controller'));
  });
});
