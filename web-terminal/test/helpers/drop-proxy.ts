import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A reverse proxy on 127.0.0.1 between the browser and a supervisor, for tests: it can drop every WebSocket
 * at once (the server side of a network failure), refuse upgrades with an HTTP status (a server that is
 * restarting), and serve the supervisor under a path prefix (`/p/` → `/`), like an ingress would.
 */
export class DropProxy {
  /** When set, upgrades are answered with this HTTP status instead of being forwarded. */
  refuseUpgrades: number | undefined;
  upgrades = 0;
  refused = 0;
  private readonly tunnels = new Set<{ client: Duplex; upstream: Socket }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly prefix: string,
  ) {}

  static async start(targetPort: number, options: { prefix?: string } = {}): Promise<DropProxy> {
    const prefix = (options.prefix ?? '').replace(/\/+$/, '');
    let proxy: DropProxy | undefined;
    const server = createServer((req, res) => {
      const path = proxy!.strip(req.url ?? '/');
      if (path === undefined) {
        res.writeHead(404).end('outside the prefix');
        return;
      }
      const upstream = request(
        { host: '127.0.0.1', port: targetPort, method: req.method, path, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => proxy!.upgrade(req, client, head, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new DropProxy(server, typeof address === 'object' && address ? address.port : 0, prefix);
    return proxy;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${this.prefix}/`;
  }

  get openTunnels(): number {
    return this.tunnels.size;
  }

  /** Destroys every proxied WebSocket, both sides, without a close frame: the browser sees 1006. */
  dropAll(): number {
    const n = this.tunnels.size;
    for (const t of this.tunnels) {
      t.client.destroy();
      t.upstream.destroy();
    }
    this.tunnels.clear();
    return n;
  }

  async close(): Promise<void> {
    this.dropAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private strip(url: string): string | undefined {
    if (!this.prefix) return url;
    if (!url.startsWith(`${this.prefix}/`)) return undefined;
    return url.slice(this.prefix.length);
  }

  private upgrade(req: IncomingMessage, client: Duplex, head: Buffer, targetPort: number): void {
    client.on('error', () => client.destroy());
    const path = this.strip(req.url ?? '/');
    if (this.refuseUpgrades !== undefined || path === undefined) {
      this.refused++;
      const status = path === undefined ? 404 : this.refuseUpgrades!;
      client.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.upgrades++;
    const upstream = connect(targetPort, '127.0.0.1');
    const tunnel = { client, upstream };
    this.tunnels.add(tunnel);
    const end = () => {
      this.tunnels.delete(tunnel);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end);
    upstream.on('close', end);
    client.on('close', end);
    upstream.on('connect', () => {
      const lines = [`${req.method} ${path} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  }
}
