import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on host:port (port 0: any free one) and resolves with the port bound and the base URL the server
 * answers at (IPv6 hosts in brackets). Shared by the controller, the gateway and local mode.
 */
export async function listen(server: Server, host: string, port: number): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return { port: bound, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
