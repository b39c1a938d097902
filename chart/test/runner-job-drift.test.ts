import type {
  V1Deployment,
  V1Job,
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1ResourceQuota,
  V1Role,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { loadConfig } from '../../controller/src/config.js';
import { buildRunnerJob } from '../../controller/src/runners/kubernetes/job-manifest.js';
import { runnerSelectorLabels } from '../../controller/src/runners/kubernetes/runner-labels.js';
import { podSecurityProblems } from './support/pod-security.js';
import { containerEnv } from './support/pod-env.js';
import { render, type Rendered } from './support/render.js';
import { VALUE_SETS } from './support/value-sets.js';

/**
 * The runner Job is built by the controller at run time (job-manifest.ts), never by Helm; the chart only
 * configures it (the controller's environment) and fences it (NetworkPolicy, ServiceAccount, Role, quota,
 * Pod Security). These tests build the Job exactly as a pod of the rendered controller would, from its
 * rendered environment, and check the chart's objects still fit it: a change on either side that breaks
 * the pairing fails here.
 */

const matches = (selector: V1LabelSelector | undefined, labels: Record<string, string>) =>
  !!selector && !selector.matchExpressions?.length && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

interface Case {
  release: string;
  namespace: string;
  r: Rendered;
  job: V1Job;
  controllerEnv: Record<string, string>;
}

const CASES = { default: VALUE_SETS.default!, prod: VALUE_SETS.prod!, 'nginx with tls': VALUE_SETS['nginx with tls']! };
const cases: Record<string, Case> = {};

beforeAll(async () => {
  await Promise.all(
    Object.entries(CASES).map(async ([name, options]) => {
      const r = await render(options);
      const controller = r.all<V1Deployment>('Deployment').find((d) => d.metadata!.name!.endsWith('-controller'))!;
      const controllerEnv = containerEnv(r, controller.spec!.template.spec!.containers[0]!, { 'cliscale-database': { DATABASE_URL: 'postgres://u:p@db/x' } });
      const config = loadConfig([], controllerEnv);
      const job = buildRunnerJob(
        { sessionId: '0b6f1d2e-3c4a-4b5c-8d6e-7f8091a2b3c4', env: { COMMAND: 'npm test', CODE_URL: 'https://github.com/o/r' }, deadlineSeconds: 600 },
        config.runner.kubernetes,
      );
      cases[name] = { release: options.release ?? 'cliscale', namespace: options.namespace ?? 'cliscale', r, job, controllerEnv };
    }),
  );
});

describe.each(Object.keys(CASES))('the runner Job the controller builds, with the %s values', (name) => {
  const c = () => cases[name]!;
  const podLabels = () => c().job.spec!.template.metadata!.labels!;
  const runnerPolicy = () => c().r.all<V1NetworkPolicy>('NetworkPolicy').find((p) => p.metadata!.name!.endsWith('-runners'))!;

  it('carries the release as its instance label, in the namespace the chart prepared', () => {
    expect(c().controllerEnv.RUNNER_INSTANCE).toBe(c().release);
    expect(podLabels()['app.kubernetes.io/instance']).toBe(c().release);
    const ns = c().job.metadata!.namespace!;
    expect(runnerPolicy().metadata!.namespace).toBe(ns);
    expect(c().r.all<V1Role>('Role').map((role) => role.metadata!.namespace)).toEqual([ns]);
    expect(c().r.all<V1ResourceQuota>('ResourceQuota').map((q) => q.metadata!.namespace)).toEqual([ns]);
    expect(c().r.all('Namespace').map((n) => n.metadata.name)).toEqual([ns]);
  });

  it("is selected by the chart's runner NetworkPolicy, which selects nothing else of the chart", () => {
    const selector = runnerPolicy().spec!.podSelector!;
    expect(selector.matchLabels).toEqual(runnerSelectorLabels(c().release));
    expect(matches(selector, podLabels())).toBe(true);
    for (const d of c().r.all<V1Deployment>('Deployment')) expect(matches(selector, d.spec!.template.metadata!.labels!)).toBe(false);
  });

  it('accepts exactly the gateway pods of this release, on the port the supervisor listens on', () => {
    const port = c().job.spec!.template.spec!.containers[0]!.ports![0]!;
    // client-node types the field as `_from`; rendered YAML (and the API) call it `from`.
    const ingress = runnerPolicy().spec!.ingress as unknown as Array<{ from?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }>;
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.ports).toEqual([{ port: port.containerPort, protocol: 'TCP' }]);
    expect(ingress[0]!.from).toHaveLength(1);
    const [peer] = ingress[0]!.from!;
    expect(peer!.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': c().namespace });
    const allowed = c().r.all<V1Deployment>('Deployment').filter((d) => matches(peer!.podSelector, d.spec!.template.metadata!.labels!));
    expect(allowed.map((d) => d.metadata!.name)).toEqual([expect.stringMatching(/-gateway$/)]);
    // The controller's readiness probe of the runner uses the same named port.
    expect(c().job.spec!.template.spec!.containers[0]!.readinessProbe!.httpGet!.port).toBe(port.name);
  });

  it("is reachable from the gateway: the gateway's egress allows its labels, namespace and port", () => {
    const gateway = c().r.all<V1NetworkPolicy>('NetworkPolicy').find((p) => p.metadata!.name!.endsWith('-gateway'))!;
    const port = c().job.spec!.template.spec!.containers[0]!.ports![0]!.containerPort;
    const ns = c().job.metadata!.namespace!;
    const allows = gateway.spec!.egress!.some(
      (rule) =>
        rule.ports?.some((p) => p.port === port) &&
        rule.to?.some((peer) => matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': ns }) && matches(peer.podSelector, podLabels())),
    );
    expect(allows).toBe(true);
  });

  it("runs as the chart's runner ServiceAccount, whose token is never mounted", () => {
    const pod = c().job.spec!.template.spec!;
    const accounts = c().r.all<V1ServiceAccount>('ServiceAccount').filter((sa) => sa.metadata!.namespace === c().job.metadata!.namespace);
    expect(accounts.map((sa) => sa.metadata!.name)).toEqual([pod.serviceAccountName]);
    expect(c().controllerEnv.RUNNER_SERVICE_ACCOUNT).toBe(pod.serviceAccountName);
    expect([accounts[0]!.automountServiceAccountToken, pod.automountServiceAccountToken]).toEqual([false, false]);
  });

  it('is admitted in the runner namespace: valid, Pod Security restricted, and within what the quota demands', () => {
    expect(() => new Job(JSON.parse(JSON.stringify(c().job)) as object).validate()).not.toThrow();
    expect(podSecurityProblems(c().job.spec!.template.spec!)).toEqual([]);
    // With a quota on requests.X or limits.X, a pod that does not declare X is refused.
    const resources = c().job.spec!.template.spec!.containers[0]!.resources!;
    for (const key of Object.keys(c().r.all<V1ResourceQuota>('ResourceQuota')[0]!.spec!.hard!)) {
      const [kind, resource] = key.split(/\.(.*)/) as [string, string];
      if (kind === 'requests') expect({ key, declared: resource in (resources.requests ?? {}) }).toEqual({ key, declared: true });
      if (kind === 'limits') expect({ key, declared: resource in (resources.limits ?? {}) }).toEqual({ key, declared: true });
    }
  });

  it('can be created, watched and deleted by the controller, with the image the chart names', () => {
    const rules = c().r.all<V1Role>('Role')[0]!.rules!;
    const can = (group: string, resource: string, verb: string) =>
      rules.some((rule) => rule.apiGroups!.includes(group) && rule.resources!.includes(resource) && rule.verbs.includes(verb));
    for (const verb of ['create', 'get', 'list', 'watch', 'delete']) expect(can('batch', 'jobs', verb)).toBe(true);
    for (const verb of ['get', 'list', 'watch']) expect(can('', 'pods', verb)).toBe(true);
    expect(c().job.spec!.template.spec!.containers[0]!.image).toBe(c().controllerEnv.RUNNER_IMAGE);
    expect(c().job.spec!.template.spec!.containers[0]!.image).toMatch(/cliscale-runner:/);
  });
});
