import { readFileSync } from 'node:fs';

export interface Asset {
  headers: Record<string, string | number>;
  body: Buffer;
}

export interface StaticPage {
  get(pathname: string): Asset | undefined;
}

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** URL path → file in the built page folder. A fixed table: no path from a request ever reaches the disk. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html;charset=utf-8' },
  '/assets/client.js': { file: 'client.js', type: 'text/javascript;charset=utf-8' },
  '/assets/client.css': { file: 'client.css', type: 'text/css;charset=utf-8' },
  '/assets/client.js.map': { file: 'client.js.map', type: 'application/json;charset=utf-8' },
  '/assets/client.css.map': { file: 'client.css.map', type: 'application/json;charset=utf-8' },
};

/**
 * The browser terminal (web-terminal/dist, which each server's build copies next to its bundle), read once
 * at start. Server-side code: the supervisor serves it at `/`, the gateway at `/ws/{sessionId}`.
 */
export function loadStaticPage(dir: URL): StaticPage {
  const assets = new Map<string, Asset>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(new URL(file, dir));
    } catch {
      body = Buffer.from(`page asset ${file} is missing: run "npm run build"`);
    }
    assets.set(path, {
      body,
      headers: {
        'content-type': type,
        'content-length': body.byteLength,
        'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    });
  }
  return { get: (pathname) => assets.get(pathname) };
}
