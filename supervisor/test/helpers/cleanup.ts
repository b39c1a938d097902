import { afterEach } from '@jest/globals';
import { stopAllSupervisors } from '@cliscale/test-kit/supervisor-process';
import { TtyClient, type ConnectOptions } from '@cliscale/test-kit/tty-client';

/**
 * Registers an afterEach that closes every client and stops every supervisor (and its command), and returns
 * the `connect` to use in the file's tests.
 */
export function connectWithCleanup(): (url: string, options?: ConnectOptions) => Promise<TtyClient> {
  const clients: TtyClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    await stopAllSupervisors();
  });
  return async (url, options = {}) => {
    const c = await TtyClient.connect(url, options);
    clients.push(c);
    return c;
  };
}
