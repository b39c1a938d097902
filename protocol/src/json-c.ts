/**
 * ttyd formats SET_PREFERENCES with json-c's default (spaced) style: `{ }` when empty, otherwise
 * `{ "fontSize": 20, "theme": { "background": "#000" } }`. Clients only JSON.parse it, but we match the
 * bytes so that captures of ttyd and of the supervisor can be compared directly.
 */
export function formatJsonC(value: unknown): string {
  if (Array.isArray(value)) {
    return value.length === 0 ? '[ ]' : `[ ${value.map(formatJsonC).join(', ')} ]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{ }';
    return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${formatJsonC(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value) ?? 'null';
}
