import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Manifest } from './render.js';

type Validatable = new (data: unknown) => { validate(): void };

/**
 * The official schemas (kubernetes-models) of every built-in kind the chart may render. A kind missing here
 * fails validation on purpose: a new kind in the chart must be added to the list, not skipped silently.
 */
const MODELS: Record<string, Validatable> = Object.fromEntries(
  Object.entries({
    'v1/Namespace': Namespace,
    'v1/ServiceAccount': ServiceAccount,
    'v1/Secret': Secret,
    'v1/Service': Service,
    'v1/ResourceQuota': ResourceQuota,
    'apps/v1/Deployment': Deployment,
    'batch/v1/Job': Job,
    'networking.k8s.io/v1/Ingress': Ingress,
    'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
    'rbac.authorization.k8s.io/v1/Role': Role,
    'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
    'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
    'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  }).map(([key, model]) => [key, model as unknown as Validatable]),
);

/** GKE's CRDs have no model in kubernetes-models: their few fields are checked by hand, from GKE's docs. */
const CUSTOM: Record<string, (m: Manifest) => string[]> = {
  'cloud.google.com/v1/BackendConfig': (m) => {
    const spec = (m.spec ?? {}) as Record<string, unknown>;
    const problems = unknownKeys(spec, ['timeoutSec', 'connectionDraining', 'healthCheck'], 'spec');
    if (!Number.isInteger(spec.timeoutSec)) problems.push('spec.timeoutSec must be an integer');
    const draining = (spec.connectionDraining ?? {}) as Record<string, unknown>;
    if (!Number.isInteger(draining.drainingTimeoutSec)) problems.push('spec.connectionDraining.drainingTimeoutSec must be an integer');
    const hc = (spec.healthCheck ?? {}) as Record<string, unknown>;
    problems.push(...unknownKeys(hc, ['type', 'requestPath', 'port', 'checkIntervalSec', 'timeoutSec', 'healthyThreshold', 'unhealthyThreshold'], 'spec.healthCheck'));
    if (!['HTTP', 'HTTPS', 'HTTP2'].includes(String(hc.type))) problems.push('spec.healthCheck.type must be HTTP, HTTPS or HTTP2');
    if (!String(hc.requestPath).startsWith('/')) problems.push('spec.healthCheck.requestPath must be a path');
    if (!Number.isInteger(hc.port)) problems.push('spec.healthCheck.port must be an integer');
    return problems;
  },
  'networking.gke.io/v1/ManagedCertificate': (m) => {
    const domains = (m.spec as { domains?: unknown } | undefined)?.domains;
    return Array.isArray(domains) && domains.length > 0 && domains.every((d) => typeof d === 'string' && /^[a-z0-9.-]+$/.test(d))
      ? []
      : ['spec.domains must be a non-empty list of DNS names'];
  },
};

function unknownKeys(object: Record<string, unknown>, known: string[], where: string): string[] {
  return Object.keys(object).filter((k) => !known.includes(k)).map((k) => `${where}.${k} is not a known field`);
}

/** Problems of one manifest against its schema; empty when it is valid. */
export function manifestProblems(manifest: Manifest): string[] {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const where = `${manifest.kind} ${manifest.metadata?.name}`;
  const custom = CUSTOM[key];
  if (custom) return custom(manifest).map((p) => `${where}: ${p}`);
  const Model = MODELS[key];
  if (!Model) return [`${where}: no schema for ${key}`];
  try {
    new Model(manifest).validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}
