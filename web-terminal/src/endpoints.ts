/**
 * Where the page finds its server, computed from its own address exactly like ttyd's client: the page's path
 * (trailing slashes removed) plus `/ws` and `/token`. So the same files work at `/` (supervisor), behind a
 * reverse-proxy prefix (`/p/` → `/p/ws`) and on the gateway (`/ws/{id}` → `/ws/{id}/ws`).
 * Unlike ttyd, the query string is NOT forwarded to the WebSocket URL: tokens must not travel in URLs.
 */
export interface PageLocation {
  protocol: string;
  host: string;
  pathname: string;
}

export function basePath(pathname: string): string {
  return pathname.replace(/\/+$/, '');
}

export function webSocketUrl(location: PageLocation): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${basePath(location.pathname)}/ws`;
}

export function tokenUrl(location: PageLocation): string {
  return `${location.protocol}//${location.host}${basePath(location.pathname)}/token`;
}

const TOKEN_TIMEOUT_MS = 5_000;

/**
 * The AuthToken for the init message, fetched before every connect as ttyd does (`{"token": "…"}`).
 * Any failure (network, non-200, not JSON, a hung proxy) means an empty token: the server decides.
 */
export async function fetchToken(url: string, fetcher: typeof fetch = fetch): Promise<string> {
  try {
    const res = await fetcher(url, { cache: 'no-store', signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
    if (!res.ok) return '';
    const body: unknown = await res.json();
    const token = (body as { token?: unknown } | null)?.token;
    return typeof token === 'string' ? token : '';
  } catch {
    return '';
  }
}
