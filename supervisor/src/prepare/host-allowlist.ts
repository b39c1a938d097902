/**
 * Whether `host` is on the allowlist: exact names, or `*.domain` for any subdomain (not the domain itself).
 * An empty list allows any host. Shared with the controller, which checks code URLs with the same rule
 * before a runner ever starts.
 */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allowed.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) && h.length > a.length - 1 : a === h));
}
