import { randomUUID } from 'node:crypto';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { statusBodies, type StatusBody } from './api-status.js';
import type { FakeJob, NewObject } from './types.js';

/** Job and Pod names end up in the `job-name` label, so the apiserver holds them to DNS-1123 labels. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * What the apiserver does to a Job before storing it: validation (the official schema via kubernetes-models,
 * then the name and pod template rules) and defaulting (the generated selector and the job-name /
 * controller-uid template labels the job controller's Pods carry).
 */
export function admitJob(body: unknown, namespace: string): { job: NewObject<FakeJob> } | { error: StatusBody } {
  if (typeof body !== 'object' || body === null) return { error: statusBodies.badRequest('the request body is not a JSON object') };
  const raw = structuredClone(body) as FakeJob;
  const name = raw.metadata?.name ?? '';
  const invalid = (field: string, problem: string) => ({ error: statusBodies.invalid('Job', 'batch', name, field, problem) });

  if (raw.metadata?.namespace && raw.metadata.namespace !== namespace) {
    return { error: statusBodies.badRequest('the namespace of the provided object does not match the namespace sent on the request') };
  }
  if (!name) return invalid('metadata.name', 'Required value: name or generateName is required');
  if (name.length > 63) return invalid('metadata.name', `Invalid value: "${name}": must be no more than 63 characters`);
  if (!DNS_1123_LABEL.test(name)) {
    return invalid('metadata.name', `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`);
  }
  try {
    new Job(raw).validate();
  } catch (err) {
    return invalid('spec', `schema validation failed: ${(err as Error).message}`);
  }
  const podSpec = raw.spec?.template?.spec;
  if (!podSpec?.containers?.length) return invalid('spec.template.spec.containers', 'Required value');
  if (podSpec.restartPolicy !== 'Never' && podSpec.restartPolicy !== 'OnFailure') {
    return invalid('spec.template.spec.restartPolicy', `Unsupported value: "${podSpec.restartPolicy ?? 'Always'}": supported values: "OnFailure", "Never"`);
  }

  const uid = randomUUID();
  const generated = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  const spec = raw.spec!;
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  spec.template.metadata = { ...spec.template.metadata, labels: { ...spec.template.metadata?.labels, ...generated } };
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.backoffLimit ??= 6;
  podSpec.terminationGracePeriodSeconds ??= 30;
  podSpec.dnsPolicy ??= 'ClusterFirst';
  podSpec.schedulerName ??= 'default-scheduler';
  for (const container of podSpec.containers) {
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
  }
  return {
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { ...raw.metadata, name, namespace, uid, generation: 1 },
      spec,
      status: {},
    },
  };
}
