import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server on 127.0.0.1 answering from a table of routes; records every request path. */
export async function startFileServer(routes: Record<string, Route>): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    const route = routes[path];
    if (route) return route(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves bytes with a content type (none when null). */
export const bytes = (body: Buffer, contentType: string | null = 'application/octet-stream'): Route => (_req, res) => {
  const headers: Record<string, string | number> = { 'content-length': body.length };
  if (contentType) headers['content-type'] = contentType;
  res.writeHead(200, headers).end(body);
};

export const redirect = (location: string, status = 302): Route => (_req, res) => void res.writeHead(status, { location }).end();
