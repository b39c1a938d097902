/**
 * RFC 6902 add / replace / remove, as skaffold applies a profile's `patches` to the base config (a copy is
 * patched, the input is left alone).
 */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export function applyPatches<T>(document: T, operations: PatchOperation[]): T {
  const result = structuredClone(document) as unknown;
  for (const { op, path, value } of operations) {
    const keys = path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent = result as Record<string, unknown> | unknown[];
    for (const key of keys) {
      const next = (parent as Record<string, unknown>)[key];
      if (typeof next !== 'object' || next === null) throw new Error(`${op} ${path}: ${key} does not exist`);
      parent = next as Record<string, unknown>;
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op === 'add') parent.splice(index, 0, value);
      else if (index >= parent.length) throw new Error(`${op} ${path}: no element ${index}`);
      else if (op === 'replace') parent[index] = value;
      else parent.splice(index, 1);
    } else {
      if (op !== 'add' && !(last in parent)) throw new Error(`${op} ${path}: ${last} does not exist`);
      if (op === 'remove') delete parent[last];
      else parent[last] = value;
    }
  }
  return result as T;
}
