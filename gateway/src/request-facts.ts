import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export type TrustProxy = boolean | number | string[];

/** express's `trust proxy` semantics (same library): true, a hop count, or proxy addresses/CIDRs/"loopback". */
export function compileTrust(trust: TrustProxy): (addr: string, hop: number) => boolean {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_addr, hop) => hop < trust;
  return proxyAddr.compile(trust);
}

/**
 * The client's address, and whether the request came over https and for which host, believing
 * X-Forwarded-For/-Proto/-Host only when the connecting peer is a trusted proxy. Never throws: a header it
 * cannot use is ignored (a socket already gone has no address: '').
 */
export function requestFacts(req: IncomingMessage, trust: (addr: string, hop: number) => boolean): { ip: string; https: boolean; host: string } {
  const peer = req.socket.remoteAddress ?? '';
  let ip = peer;
  try {
    ip = proxyAddr(req, trust) ?? peer;
  } catch {
    // an unparseable X-Forwarded-For: the connecting peer's address
  }
  ip = ip.replace(/^::ffff:/, '');
  const viaProxy = trust(peer, 0);
  const first = (h: string | string[] | undefined) => String(h ?? '').split(',')[0]!.trim();
  const proto = viaProxy ? first(req.headers['x-forwarded-proto']) : '';
  const https = proto ? proto === 'https' : Boolean((req.socket as { encrypted?: boolean }).encrypted);
  const host = (viaProxy && first(req.headers['x-forwarded-host'])) || req.headers.host || '';
  return { ip, https, host };
}

/** The request's target as a URL, or undefined when it cannot be parsed (`//[`, `http://[::1`): a 400, never an exception. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://gateway');
  } catch {
    return undefined;
  }
}
