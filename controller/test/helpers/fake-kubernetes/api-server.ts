import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { statusBodies, type ResourceRef, type StatusBody } from './api-status.js';
import type { Deletions, PropagationPolicy } from './deletions.js';
import { admitJob } from './job-admission.js';
import { parseLabelSelector } from './label-selector.js';
import type { ObjectStore } from './object-store.js';
import type { FakeJob, FakeObject } from './types.js';
import { serveWatch } from './watch-stream.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'delete';

export interface ApiRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  verb?: Verb;
  resource?: ResourceRef['resource'];
  name?: string;
  status: number;
  body?: unknown;
  /** A watch answered with `ERROR` 410 (its resourceVersion was compacted away). */
  expired?: boolean;
}

export interface FakeApiServerOptions {
  /** Bearer token every request must carry. */
  token: string;
  /** How often a watch that allows bookmarks gets one (the real apiserver: about a minute). */
  bookmarkIntervalMs?: number;
}

interface Route {
  ref: ResourceRef;
  kind: FakeObject['kind'];
  apiVersion: string;
  namespace: string;
  name?: string;
}

const ROUTES: Array<{ pattern: RegExp; ref: ResourceRef; kind: FakeObject['kind']; apiVersion: string }> = [
  { pattern: /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/, ref: { resource: 'jobs', group: 'batch' }, kind: 'Job', apiVersion: 'batch/v1' },
  { pattern: /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/, ref: { resource: 'pods', group: '' }, kind: 'Pod', apiVersion: 'v1' },
];

/**
 * The fake apiserver: the Job and Pod endpoints client-node calls, on 127.0.0.1, with the real server's
 * bodies, status codes and watch semantics. Test hooks: breakWatches, setDown, forbid, and a request log.
 */
export class FakeApiServer {
  readonly requests: ApiRequestRecord[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<() => void>();
  private readonly forbidden = new Set<string>();
  private down: false | 'unavailable' | 'refuse' = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly deletions: Deletions,
    private readonly options: FakeApiServerOptions,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      if (this.down === 'refuse') return socket.destroy();
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Forgets the watch history (an etcd compaction): resuming from an older resourceVersion than now answers 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  /** Drops every open watch connection mid-stream. */
  breakWatches(): void {
    for (const drop of [...this.watches]) drop();
  }

  /**
   * Down: every request gets 503 ('unavailable') or every connection is reset ('refuse'); open watches drop.
   * Up again with `setDown(false)`.
   */
  setDown(down: boolean, mode: 'unavailable' | 'refuse' = 'unavailable'): void {
    this.down = down ? mode : false;
    if (!down) return;
    this.breakWatches();
    if (mode === 'refuse') for (const socket of this.sockets) socket.destroy();
  }

  /** RBAC says no: `forbid('create', 'jobs')` answers 403 until `allow` is called with the same arguments. */
  forbid(verb: Verb, resource: ResourceRef['resource']): void {
    this.forbidden.add(`${verb} ${resource}`);
  }

  allow(verb: Verb, resource: ResourceRef['resource']): void {
    this.forbidden.delete(`${verb} ${resource}`);
  }

  async close(): Promise<void> {
    this.breakWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const record: ApiRequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, status: 0 };
    this.requests.push(record);
    const reply = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const fail = (status: StatusBody) => reply(status.code, status);

    const text = await readBody(req);
    if (text) {
      try {
        record.body = JSON.parse(text);
      } catch {
        return fail(statusBodies.badRequest('the request body is not valid JSON'));
      }
    }
    if (this.down) return fail(statusBodies.unavailable());
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return fail(statusBodies.unauthorized());

    const route = matchRoute(url.pathname);
    if (!route) return fail(statusBodies.noRoute());
    const verb = verbOf(record.method, route, query.watch === 'true' || query.watch === '1');
    if (!verb) return fail(statusBodies.noRoute());
    Object.assign(record, { verb, resource: route.ref.resource, ...(route.name ? { name: route.name } : {}) });
    if (this.forbidden.has(`${verb} ${route.ref.resource}`)) return fail(statusBodies.forbidden(route.ref, verb, route.namespace));

    const { ref, kind, namespace, name } = route;
    switch (verb) {
      case 'watch': {
        record.status = 200;
        const watch = serveWatch(
          this.store,
          {
            kind,
            apiVersion: route.apiVersion,
            namespace,
            selector: parseLabelSelector(query.labelSelector),
            resourceVersion: query.resourceVersion,
            bookmarks: query.allowWatchBookmarks === 'true',
            bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 1_000,
            timeoutSeconds: query.timeoutSeconds ? Number(query.timeoutSeconds) : undefined,
          },
          res,
        );
        if (watch.expired) record.expired = true;
        this.watches.add(watch.drop);
        res.on('close', () => this.watches.delete(watch.drop));
        return;
      }
      case 'list': {
        const items = this.store.list(kind, namespace, parseLabelSelector(query.labelSelector));
        // List items carry no kind/apiVersion of their own, as in the real server.
        const bare = items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
        return reply(200, { kind: `${kind}List`, apiVersion: route.apiVersion, metadata: { resourceVersion: this.store.resourceVersion }, items: bare });
      }
      case 'get': {
        const object = this.store.get(kind, namespace, name!);
        return object ? reply(200, object) : fail(statusBodies.notFound(ref, name!));
      }
      case 'create': {
        if (kind !== 'Job') return fail(statusBodies.noRoute());
        const admitted = admitJob(record.body, namespace);
        if ('error' in admitted) return fail(admitted.error);
        const created = this.store.create<FakeJob>(admitted.job);
        return created ? reply(201, created) : fail(statusBodies.alreadyExists(ref, admitted.job.metadata.name));
      }
      case 'delete': {
        const options = (record.body ?? {}) as { propagationPolicy?: string; gracePeriodSeconds?: number };
        if (kind === 'Pod') {
          const grace = query.gracePeriodSeconds ?? options.gracePeriodSeconds;
          const pod = this.deletions.deletePod(namespace, name!, grace === undefined ? undefined : Number(grace));
          return pod ? reply(200, pod) : fail(statusBodies.notFound(ref, name!));
        }
        // batch/v1 Jobs default to orphaning their Pods.
        const policy = (query.propagationPolicy ?? options.propagationPolicy ?? 'Orphan') as PropagationPolicy;
        const job = this.deletions.deleteJob(namespace, name!, policy);
        if (!job) return fail(statusBodies.notFound(ref, name!));
        return policy === 'Foreground' ? reply(200, job) : reply(200, statusBodies.success(ref, name!, job.metadata.uid));
      }
    }
  }
}

function matchRoute(path: string): Route | undefined {
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m) return { ref: r.ref, kind: r.kind, apiVersion: r.apiVersion, namespace: decodeURIComponent(m[1]!), ...(m[2] ? { name: decodeURIComponent(m[2]) } : {}) };
  }
  return undefined;
}

function verbOf(method: string, route: Route, watch: boolean): Verb | undefined {
  if (method === 'GET') return route.name ? 'get' : watch ? 'watch' : 'list';
  if (method === 'POST' && !route.name) return 'create';
  if (method === 'DELETE' && route.name) return 'delete';
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
