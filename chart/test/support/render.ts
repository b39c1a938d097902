import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runHelm } from './helm.js';

export const CHART_DIR = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const REPO_DIR = path.resolve(CHART_DIR, '..');

/** A rendered manifest: every object has these; the rest is read through @kubernetes/client-node types. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, relative to the chart (values.yaml is always applied first by helm itself). */
  valuesFiles?: string[];
  /** --set pairs. */
  set?: Record<string, string | number | boolean>;
  /** Extra helm arguments, e.g. --is-upgrade, --dry-run=server. */
  args?: string[];
  kubeconfig?: string;
}

/** DATABASE_URL has no default (the chart runs no database): renders of the plain defaults add this one value. */
export const DATABASE_URL = 'postgres://cliscale:secret@10.20.0.3:5432/cliscale';

export function helmArgs(command: 'template' | 'lint', options: RenderOptions): string[] {
  const args = command === 'template'
    ? ['template', options.release ?? 'cliscale', CHART_DIR, '--namespace', options.namespace ?? 'cliscale']
    : ['lint', '--strict', CHART_DIR, '--namespace', options.namespace ?? 'cliscale'];
  for (const file of options.valuesFiles ?? []) args.push('--values', `${CHART_DIR}/${file}`);
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  return [...args, ...(options.args ?? [])];
}

export class Rendered {
  constructor(readonly manifests: Manifest[]) {}

  all<T = Manifest>(kind: string): T[] {
    return this.manifests.filter((m) => m.kind === kind) as T[];
  }

  /** The one object of this kind and name; throws (naming what there is) otherwise. */
  get<T = Manifest>(kind: string, name: string): T {
    const found = this.manifests.filter((m) => m.kind === kind && m.metadata.name === name);
    if (found.length !== 1) {
      const names = this.all(kind).map((m) => m.metadata.name);
      throw new Error(`expected one ${kind} ${name}, found ${found.length} (${kind}s: ${names.join(', ') || 'none'})`);
    }
    return found[0] as T;
  }
}

/** `helm template`; throws with helm's message when it fails. */
export async function render(options: RenderOptions = {}): Promise<Rendered> {
  const result = await runHelm([...helmArgs('template', options), '--include-crds'], { kubeconfig: options.kubeconfig });
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`);
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(result.stdout)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML from helm: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value) manifests.push(value);
  }
  return new Rendered(manifests);
}

/** `helm template` that must fail: resolves to helm's error output. */
export async function renderError(options: RenderOptions): Promise<string> {
  const result = await runHelm(helmArgs('template', options), { kubeconfig: options.kubeconfig });
  if (result.code === 0) throw new Error('helm template succeeded where it should have failed');
  return result.stderr;
}
