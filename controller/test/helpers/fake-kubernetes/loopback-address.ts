import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * A random 127.x.y.z (never 127.0.0.1) where `port` can be bound, so every fake pod listens on the same
 * port at its own address, as pods do. Linux routes all of 127.0.0.0/8 to the loopback interface.
 */
export async function freeLoopbackAddress(port: number): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const address = `127.${randomInt(256)}.${randomInt(256)}.${1 + randomInt(254)}`;
    if (address !== '127.0.0.1' && (await canBind(address, port))) return address;
  }
  throw new Error(`no free loopback address for port ${port}`);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
