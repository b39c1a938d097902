import { lookup } from 'node:dns/promises';
import { isAbsolute } from 'node:path';
import ipaddr from 'ipaddr.js';
import { hostAllowed } from '@cliscale/runner-contract';
import { DependencyUnavailable, InvalidRequest } from './session-errors.js';

export interface CodeUrlPolicy {
  allowedHosts: string[];
  allowHttp: boolean;
  /** Development only: accept IP literals and hosts that resolve to loopback or private addresses. */
  allowPrivateHosts: boolean;
  /** Local mode only: accept absolute paths and file:// URLs. */
  allowLocal: boolean;
}

/** Resolves a host name to its addresses (injectable: tests never ask a real resolver). */
export type ResolveHost = (host: string) => Promise<string[]>;

const RESOLVE_TIMEOUT_MS = 3000;

export const resolveWithDns: ResolveHost = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

const invalid = (message: string) => new InvalidRequest(message, 'code_url');

/**
 * Only public unicast addresses: no loopback, private, link-local (which holds the cloud metadata address
 * 169.254.169.254), unique-local, CGNAT, multicast, reserved or unspecified ones. IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/**
 * Checks a code URL before any runner exists, and returns it normalised. The runner re-checks scheme and
 * hosts on every redirect; this is where names that resolve to internal addresses are stopped.
 */
export async function checkCodeUrl(raw: string, policy: CodeUrlPolicy, resolveHost: ResolveHost): Promise<string> {
  if (policy.allowLocal && isAbsolute(raw)) return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(policy.allowLocal ? 'code_url must be an https URL or an absolute path' : 'code_url must be an https URL');
  }
  if (url.protocol === 'file:') {
    if (policy.allowLocal) return raw;
    throw invalid('code_url may not be a local file: use an https URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw invalid(`code_url must use https${policy.allowHttp ? ' or http' : ''}, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) throw invalid('code_url must not contain credentials');
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const literal = ipaddr.isValid(host);
  if (literal && !policy.allowPrivateHosts) throw invalid('code_url must name a host, not an IP address');
  if (!hostAllowed(host, policy.allowedHosts)) {
    throw invalid(`code_url host ${host} is not allowed (allowed: ${policy.allowedHosts.join(', ')})`);
  }
  if (policy.allowPrivateHosts) return url.toString();

  let addresses: string[];
  try {
    addresses = await resolveHost(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw invalid(`code_url host ${host} does not resolve`);
    throw new DependencyUnavailable(`could not resolve code_url host ${host} (${code ?? 'error'}); try again`);
  }
  if (addresses.length === 0) throw invalid(`code_url host ${host} does not resolve`);
  const internal = addresses.find((a) => !isPublicAddress(a));
  if (internal) throw invalid(`code_url host ${host} resolves to a non-public address (${internal})`);
  return url.toString();
}
