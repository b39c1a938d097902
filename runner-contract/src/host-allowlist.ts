/**
 * Whether `host` is on the allowlist: exact names, or `*.domain` for any subdomain (not the domain itself).
 * An empty list allows any host. The controller checks code URLs with it before a runner starts; the
 * supervisor checks every download and redirect with it again.
 */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allowed.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) && h.length > a.length - 1 : a === h));
}

/**
 * Hosts the runner may download from, redirects included: each allowed host and its subdomains (GitHub
 * serves archives of github.com from codeload.github.com).
 */
export function runnerAllowedHosts(allowed: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const host of allowed) {
    hosts.add(host);
    if (!host.startsWith('*.')) hosts.add(`*.${host}`);
  }
  return [...hosts];
}
