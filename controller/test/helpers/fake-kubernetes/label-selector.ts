/** `labelSelector` query values: equality (`a=b`, `a==b`), inequality (`a!=b`), existence (`a`, `!a`). */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'exists' | 'absent' };
export type LabelSelector = Requirement[];

export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part): Requirement => {
      const neq = /^([^!=]+)!=(.*)$/.exec(part);
      if (neq) return { key: neq[1]!.trim(), op: 'neq', value: neq[2]!.trim() };
      const eq = /^([^!=]+)==?(.*)$/.exec(part);
      if (eq) return { key: eq[1]!.trim(), op: 'eq', value: eq[2]!.trim() };
      if (part.startsWith('!')) return { key: part.slice(1).trim(), op: 'absent' };
      if (/\s(in|notin)\s/.test(part)) throw new Error(`set-based selectors are not supported by the fake: ${part}`);
      return { key: part, op: 'exists' };
    });
}

export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return (selector ?? []).every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'eq':
        return value === r.value;
      case 'neq':
        return value !== r.value;
      case 'exists':
        return value !== undefined;
      case 'absent':
        return value === undefined;
    }
  });
}
