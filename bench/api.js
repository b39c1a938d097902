// The controller's API on the local backend (started as `npm start` starts it): start-up (cold with initdb, warm), POST /api/sessions latency,
// time until a session's supervisor is reachable, concurrent creations, and the controller's memory, next to
// baselines measured in the same run: one PostgreSQL INSERT round trip (the floor of a row-first create),
// a bare `node` start (the floor of a local runner) and `tmux new-session` (the original's runner).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { median, memoryOf, now, percentile, round, sleep } from './lib/common.js';

const root = new URL('..', import.meta.url).pathname;
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 30);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 20);

/** The controller as local mode runs it (`npm start`: embedded PostgreSQL, local runner backend). */
function startController(dataDir) {
  const started = now();
  const child = spawn(process.execPath, [join(root, 'local/dist/main.js'), '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, SESSION_RATE_LIMIT: '100000', MAX_ACTIVE_SESSIONS_PER_KEY: '1000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const running = /cliscale is running at (http:\/\/\S+)/.exec(out);
      const key = /API key: (\S+)/.exec(out);
      if (running && key) resolve({ child, url: running[1], key: key[1], startMs: now() - started });
    });
    child.on('exit', (code) => reject(new Error(`controller exited (${code}): ${out}`)));
  });
}

async function stopController(c) {
  const exited = new Promise((r) => c.child.once('exit', r));
  c.child.kill('SIGTERM');
  await exited;
}

async function create(c, body, query = '') {
  const t0 = now();
  const res = await fetch(`${c.url}/api/sessions${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 201) throw new Error(`${res.status}: ${JSON.stringify(json)}`);
  return { ms: now() - t0, json };
}

async function baselines(pgDir) {
  // A PostgreSQL of the same build, of its own, for the INSERT floor.
  const { startEmbeddedPostgres } = await import('../local/dist/embedded-postgres.js');
  const server = await startEmbeddedPostgres({ dataDir: pgDir });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query('CREATE TEMP TABLE bench (id uuid primary key, body jsonb)');
  const inserts = [];
  for (let i = 0; i < 200; i++) {
    const t0 = now();
    await client.query('INSERT INTO bench VALUES (gen_random_uuid(), $1)', [JSON.stringify({ i })]);
    inserts.push(now() - t0);
  }
  await client.end();
  await server.stop();
  const nodeStarts = [];
  for (let i = 0; i < 10; i++) {
    const t0 = now();
    spawnSync(process.execPath, ['-e', '']);
    nodeStarts.push(now() - t0);
  }
  const tmuxStarts = [];
  const tmux = spawnSync('tmux', ['-V']).status === 0;
  for (let i = 0; tmux && i < 10; i++) {
    const socket = join(tmpdir(), `cliscale-bench-tmux-${process.pid}-${i}`);
    const t0 = now();
    spawnSync('tmux', ['-S', socket, 'new-session', '-d', 'true; sleep 5']);
    tmuxStarts.push(now() - t0);
    spawnSync('tmux', ['-S', socket, 'kill-server']);
    rmSync(socket, { force: true });
  }
  return { insertMs: median(inserts), nodeStartMs: median(nodeStarts), tmuxStartMs: tmux ? median(tmuxStarts) : null };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'cliscale-bench-api-'));
  const code = mkdtempSync(join(tmpdir(), 'cliscale-bench-code-'));
  try {
    const cold = await startController(dataDir);
    await stopController(cold);
    const c = await startController(dataDir);
    const body = { code_url: code, command: 'true', install_cmd: '' };
    const creates = [];
    const ready = [];
    // Spaced so each measures the API, not the previous session's supervisor still starting on the same cores.
    for (let i = 0; i < SESSIONS; i++) {
      creates.push((await create(c, body)).ms);
      await sleep(400);
    }
    for (let i = 0; i < 10; i++) ready.push((await create(c, { ...body, command: 'sleep 1' }, '?wait=ready')).ms);
    await sleep(1500);
    const t0 = now();
    const burst = await Promise.all(Array.from({ length: CONCURRENT }, () => create(c, body)));
    const burstMs = now() - t0;
    await sleep(2000);
    const rssMiB = memoryOf(c.child.pid).rssMiB;
    const base = await baselines(join(dataDir, 'baseline'));
    await stopController(c);
    const rows = [
      ['local mode start, cold (initdb + migrate)', `${round(cold.startMs, 0)} ms`, ''],
      ['local mode start, warm', `${round(c.startMs, 0)} ms`, ''],
      ['POST /api/sessions p50 / p99', `${round(median(creates))} / ${round(percentile(creates, 99))} ms`, `INSERT round trip ${round(base.insertMs)} ms`],
      ['POST ?wait=ready (supervisor reachable) p50', `${round(median(ready))} ms`, `node start ${round(base.nodeStartMs)} ms; tmux new-session ${base.tmuxStartMs === null ? 'n/a' : `${round(base.tmuxStartMs)} ms`}`],
      [`${CONCURRENT} concurrent POSTs`, `${round(burstMs, 0)} ms (${round((CONCURRENT * 1000) / burstMs, 1)}/s), max ${round(Math.max(...burst.map((b) => b.ms)), 0)} ms`, ''],
      ['controller RSS after the runs', `${round(rssMiB, 0)} MiB`, ''],
    ];
    console.log('\ncliscale controller API (local backend, embedded PostgreSQL 18)\n');
    for (const [what, value, baseline] of rows) console.log(`${what.padEnd(46)} ${value.padEnd(40)} ${baseline}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(code, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
