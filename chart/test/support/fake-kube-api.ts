import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface FakeKubeApi {
  /** A kubeconfig file pointing at the server. */
  kubeconfig: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Just enough of an API server, on 127.0.0.1, for Helm's `lookup` of Secrets (`helm template
 * --dry-run=server`): the core v1 discovery document and GET of the Secrets given; anything else is 404,
 * which `lookup` reports as "does not exist".
 */
export async function startFakeKubeApi(secrets: Array<{ namespace: string; name: string; data: Record<string, string> }>): Promise<FakeKubeApi> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && url.pathname === '/api/v1') {
      res.end(JSON.stringify({
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [{ name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['get', 'list'] }],
      }));
      return;
    }
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(url.pathname);
    const secret = match && secrets.find((s) => s.namespace === match[1] && s.name === match[2]);
    if (req.method === 'GET' && secret) {
      const data = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: secret.name, namespace: secret.namespace }, data }));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cliscale-chart-kubeconfig-'));
  const kubeconfig = path.join(dir, 'config');
  await writeFile(kubeconfig, [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}"}}]`,
    'users: [{name: fake, user: {token: fake}}]',
    'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
    'current-context: fake',
    '',
  ].join('\n'));
  return {
    kubeconfig,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
