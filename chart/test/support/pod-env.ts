import type { V1Container, V1Secret } from '@kubernetes/client-node';
import type { Rendered } from './render.js';

/**
 * A container's environment as the kubelet would build it: literal values, and secretKeyRefs resolved
 * from the Secrets the chart rendered or, for Secrets that exist before the chart, from `existing`.
 * A reference to nothing throws: the pod would not start either.
 */
export function containerEnv(r: Rendered, container: V1Container, existing: Record<string, Record<string, string>> = {}): Record<string, string> {
  const secrets = new Map<string, Record<string, string>>(Object.entries(existing));
  for (const s of r.all<V1Secret>('Secret')) {
    secrets.set(s.metadata!.name!, Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
  }
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = e.value;
      continue;
    }
    const ref = e.valueFrom?.secretKeyRef;
    const value = ref && secrets.get(ref.name!)?.[ref.key];
    if (value === undefined) throw new Error(`${container.name}: ${e.name} refers to ${JSON.stringify(e.valueFrom)}, which does not exist`);
    env[e.name] = value;
  }
  return env;
}
