import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { SUPERVISOR_BIN } from '@cliscale/test-kit/supervisor-process';
import { FakeApiServer } from './api-server.js';
import { Deletions } from './deletions.js';
import { FakeJobController } from './job-controller.js';
import { FakeKubelet } from './kubelet.js';
import { ObjectStore } from './object-store.js';

export interface FakeClusterOptions {
  bookmarkIntervalMs?: number;
  imagePullBackOffMs?: number;
}

/**
 * A Kubernetes control plane and node on loopback: the apiserver (HTTP on 127.0.0.1), the job controller, the
 * garbage collector, and a kubelet whose containers all run the real cliscale supervisor.
 */
export class FakeCluster {
  readonly store = new ObjectStore();
  readonly deletions = new Deletions(this.store);
  readonly jobController = new FakeJobController(this.store, this.deletions);
  readonly kubelet: FakeKubelet;
  readonly api: FakeApiServer;
  readonly token = randomBytes(16).toString('hex');

  private constructor(options: FakeClusterOptions) {
    this.api = new FakeApiServer(this.store, this.deletions, { token: this.token, bookmarkIntervalMs: options.bookmarkIntervalMs });
    this.kubelet = new FakeKubelet(this.store, {
      entrypoint: [process.execPath, SUPERVISOR_BIN],
      imageEnv: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
      imagePullBackOffMs: options.imagePullBackOffMs,
    });
  }

  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(options);
    await cluster.api.listen();
    return cluster;
  }

  /** A KubeConfig for the fake apiserver, with its bearer token (or another one, to test 401). */
  kubeConfig(token = this.token): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      // client-node refuses http:// unless TLS verification is off.
      clusters: [{ name: 'fake', server: this.api.url, skipTLSVerify: true }],
      users: [{ name: 'fake-user', token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Stops everything: every container process killed, every temp folder removed. */
  async close(): Promise<void> {
    this.jobController.close();
    this.deletions.close();
    await this.kubelet.close();
    await this.api.close();
  }
}
