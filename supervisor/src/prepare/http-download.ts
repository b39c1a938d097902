import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CodeConfig } from '../config-code.js';
import { checkRemoteUrl, redactUrl } from './code-source.js';
import { PhaseError, PreparationCancelled } from './phase-error.js';
import { formatBytes } from './safe-tree-writer.js';

export interface Download {
  file: string;
  bytes: number;
  sha256: string;
  contentType: string | undefined;
  /** The URL the bytes finally came from, after redirects. */
  url: URL;
}

export interface DownloadOptions {
  signal: AbortSignal;
  onProgress: (received: number, total: number | undefined) => void;
}

const fail = (message: string): never => {
  throw new PhaseError('fetching', message);
};

/** One GET, resolving with the response headers, or failing on connect timeout, stall or abort. */
function get(url: URL, config: CodeConfig, signal: AbortSignal, state: { failure?: Error }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { headers: { 'user-agent': 'cliscale-supervisor', accept: '*/*' }, signal });
    const failWith = (message: string) => req.destroy((state.failure = new PhaseError('fetching', message)));
    const connectTimer = setTimeout(() => failWith(`could not connect to ${url.host} within ${config.connectTimeoutMs} ms`), config.connectTimeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    // Idle socket: a server that accepts and then says nothing, or stops sending half-way.
    req.setTimeout(config.stallTimeoutMs, () => failWith(`${url.host} sent nothing for ${config.stallTimeoutMs} ms (limit --stall-timeout)`));
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      resolve(res);
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
    req.on('close', () => clearTimeout(connectTimer));
    req.end();
  });
}

function describeError(err: unknown, url: URL, signal: AbortSignal): Error {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new PreparationCancelled('SIGTERM');
  if (err instanceof PhaseError) return err;
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOTFOUND' ? `host ${url.hostname} not found` : e.code === 'ECONNREFUSED' ? `connection refused by ${url.host}` : e.message;
  return new PhaseError('fetching', `download from ${redactUrl(url)} failed: ${reason}`);
}

/**
 * Downloads to `file`, hashing as it goes. Redirects are followed by hand so that each target is checked
 * against the scheme and host policy, and credentials never travel to another host.
 */
export async function download(start: URL, file: string, config: CodeConfig, options: DownloadOptions): Promise<Download> {
  const overall = AbortSignal.timeout(config.downloadTimeoutMs);
  const signal = AbortSignal.any([options.signal, overall]);
  let url = start;
  // A timer's own reason beats the socket error it causes ("aborted", "socket hang up").
  const state: { failure?: Error } = {};
  try {
    for (let redirects = 0; ; redirects++) {
      const res = await get(url, config, signal, state);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= config.maxRedirects) fail(`more than ${config.maxRedirects} redirects (limit --max-redirects)`);
        const next = new URL(res.headers.location, url);
        checkRemoteUrl(next, config);
        if (next.host !== url.host) {
          next.username = '';
          next.password = '';
        }
        url = next;
        continue;
      }
      if (status !== 200) {
        res.resume();
        fail(`HTTP ${status} ${res.statusMessage ?? ''} from ${redactUrl(url)}`.replace(/ +from/, ' from'));
      }
      const declared = Number(res.headers['content-length'] ?? NaN);
      const total = Number.isFinite(declared) ? declared : undefined;
      if (total !== undefined && total > config.maxDownloadBytes) {
        res.destroy();
        fail(`the archive is ${formatBytes(total)}, more than ${formatBytes(config.maxDownloadBytes)} (limit --max-download-bytes)`);
      }
      const hash = createHash('sha256');
      let received = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          received += chunk.byteLength;
          if (received > config.maxDownloadBytes) {
            return done(new PhaseError('fetching', `the download exceeded ${formatBytes(config.maxDownloadBytes)} (limit --max-download-bytes)`));
          }
          hash.update(chunk);
          options.onProgress(received, total);
          done(null, chunk);
        },
      });
      res.on('aborted', () => {
        state.failure ??= new PhaseError('fetching', `${url.host} closed the connection after ${formatBytes(received)}`);
      });
      await pipeline(res, meter, createWriteStream(file, { mode: 0o600 }), { signal });
      if (total !== undefined && received !== total) fail(`the download ended after ${formatBytes(received)} of ${formatBytes(total)}`);
      const contentType = res.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      return { file, bytes: received, sha256: hash.digest('hex'), contentType, url };
    }
  } catch (err) {
    if (overall.aborted && !options.signal.aborted) {
      throw new PhaseError('fetching', `the download took longer than ${config.downloadTimeoutMs} ms (limit --download-timeout)`);
    }
    if (err instanceof PhaseError) throw err;
    if (state.failure && !options.signal.aborted) throw state.failure;
    throw describeError(err, url, options.signal);
  }
}
