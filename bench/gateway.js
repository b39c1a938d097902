// The gateway's cost: the same supervisor (bash, with a ttyd credential) reached directly and through the
// built gateway (gateway/dist/main.js, real PostgreSQL, real JWKS over HTTP, real one-time tokens).
// Measured in the same run: connect time (upgrade + token check + jti consumption + runner connect, until the
// replay arrives), keystroke echo latency, output throughput, and the gateway's memory.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import pg from 'pg';
import { installExitHandlers, loadProtocol, median, memoryOf, now, registerKiller, round } from './lib/common.js';
import { echoLatency } from './lib/echo-latency.js';
import { Supervisor, WsClient } from './lib/supervisor.js';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const CREDENTIAL = 'cliscale:bench-credential';
const SEQ = 'seq 1 1000000';

async function jwksServer() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const server = createServer((_req, res) => res.end(JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] })));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/jwks.json`, privateKey, kid, close: () => server.close() };
}

function startGateway(env) {
  const child = spawn(process.execPath, [join(root, 'gateway/dist/main.js'), '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  registerKiller(() => child.kill('SIGKILL'));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"port":(\d+),"jwks"/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}): ${out}`)));
  });
}

async function main() {
  installExitHandlers();
  const protocol = await loadProtocol();
  const dataDir = mkdtempSync(join(tmpdir(), 'cliscale-bench-gw-'));
  const { startEmbeddedPostgres } = await import('../local/dist/embedded-postgres.js');
  const postgres = await startEmbeddedPostgres({ dataDir });
  const keys = await jwksServer();
  const shellEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LC_ALL: 'C', TERM: 'xterm-256color', PS1: 'bench$ ', CREDENTIAL };
  const sup = await Supervisor.start({ command: ['bash', '--norc', '--noprofile'], env: shellEnv });
  let gateway;
  let pollingGateway;
  try {
    await new Promise((resolve, reject) =>
      spawn(process.execPath, [join(root, 'database/dist/migrate.js'), '--database-url', postgres.url], { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? resolve() : reject(new Error('migrate failed')))),
    );
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const sessionId = randomUUID();
    await db.query(
      `INSERT INTO sessions (id, owner, status, code_url, command, runner_backend, runner_credential, runner_host, runner_port, expires_at)
       VALUES ($1, 'bench', 'running', 'https://x.example/r', 'bash', 'local', $2, '127.0.0.1', $3, now() + interval '1 hour')`,
      [sessionId, CREDENTIAL, sup.port],
    );
    const token = async (sid = sessionId) => {
      const jti = randomUUID();
      await db.query(`INSERT INTO session_tokens (jti, session_id, mode, subject, expires_at) VALUES ($1, $2, 'interact', 'bench', now() + interval '5 minutes')`, [jti, sid]);
      return new SignJWT({ sid, mode: 'interact' })
        .setProtectedHeader({ alg: 'RS256', kid: keys.kid })
        .setIssuer('cliscale')
        .setAudience('cliscale-gateway')
        .setSubject('bench')
        .setJti(jti)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime('5m')
        .sign(keys.privateKey);
    };
    gateway = await startGateway({ DATABASE_URL: postgres.url, JWKS_URL: keys.url, LOG_LEVEL: 'info' });
    pollingGateway = await startGateway({ DATABASE_URL: postgres.url, JWKS_URL: keys.url, LOG_LEVEL: 'info', RUNNER_POLL_SECONDS: '1' });

    const authToken = Buffer.from(CREDENTIAL).toString('base64');
    const routes = {
      direct: async () => WsClient.connect(sup.port, { protocol, authToken }),
      gateway: async () => WsClient.connect(0, { protocol, url: `ws://127.0.0.1:${gateway.port}/ws/${sessionId}?token=${await token()}` }),
    };
    const results = {};
    for (const [name, connect] of Object.entries(routes)) {
      const connects = [];
      const throughput = [];
      let echo;
      for (let run = 0; run < RUNS; run++) {
        const t0 = now();
        const client = await connect();
        await client.waitFor('bench$ ', 10_000);
        connects.push(now() - t0);
        await client.quiet(150);
        const marker = `DONE_${run}_${name}`;
        const done = client.waitFor(marker, 120_000);
        const t1 = now();
        client.input(`${SEQ}; echo ${marker.replace('DONE', 'DO""NE')}\r`);
        throughput.push((await done).t - t1);
        await client.quiet(150);
        if (run === 0) {
          echo = await echoLatency(220, 20, {
            send: (key) => client.input(key),
            subscribe: (fn) => {
              const listener = (chunk, t) => fn(Buffer.from(chunk).toString('latin1'), t);
              client.listeners.add(listener);
              return () => client.listeners.delete(listener);
            },
          });
        }
        client.ws.close();
        await new Promise((r) => setTimeout(r, 200));
      }
      results[name] = { connectMs: median(connects), seqMs: median(throughput), echo };
    }
    const rss = memoryOf(gateway.child.pid).rssMiB;
    const wake = await startingSessionWake(db, token, protocol, gateway.port, pollingGateway.port, sup.port);
    await db.end();
    const d = results.direct;
    const g = results.gateway;
    const row = (what, direct, via) => console.log(`${what.padEnd(34)} ${String(direct).padEnd(14)} ${String(via).padEnd(14)} ${round(via / direct, 2)}x`);
    console.log(`\ncliscale gateway vs direct to the supervisor (medians of ${RUNS} runs; echo: 200 keys)\n`);
    console.log(`${''.padEnd(34)} ${'direct'.padEnd(14)} ${'via gateway'.padEnd(14)} ratio`);
    row('connect until the prompt (ms)', round(d.connectMs), round(g.connectMs));
    row(`${SEQ} to the client (ms)`, round(d.seqMs, 0), round(g.seqMs, 0));
    row('echo p50 (ms)', round(d.echo.p50), round(g.echo.p50));
    row('echo p99 (ms)', round(d.echo.p99), round(g.echo.p99));
    console.log(`\ngateway RSS after the runs: ${round(rss, 0)} MiB`);
    console.log(`\na terminal waiting for a starting session: ms from the runner's status change to its prompt (${wake.delays.length} runs, change after ${wake.delays.join('/')} ms)`);
    console.log(`${''.padEnd(34)} ${'median'.padEnd(14)} max`);
    for (const [what, ms] of Object.entries(wake.results)) console.log(`${what.padEnd(34)} ${String(round(median(ms))).padEnd(14)} ${round(Math.max(...ms))}`);
  } finally {
    gateway?.child.kill('SIGTERM');
    pollingGateway?.child.kill('SIGTERM');
    await sup.stop?.();
    keys.close();
    await postgres.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A browser connected while its session is still starting; the runner comes up after a while. The controller
 * changes the row and NOTIFYs in one transaction: the gateway's LISTEN wakes the terminal. Baseline in the same
 * run: the same change without NOTIFY, seen by a second gateway only through its fallback re-read of the
 * session (RUNNER_POLL_SECONDS=1; the gateway before notifications polled with a backoff capped at 1 s).
 */
async function startingSessionWake(db, token, protocol, notifiedPort, pollingPort, runnerPort) {
  const delays = [300, 700, 1300, 2100, 3300];
  const results = { 'NOTIFY + LISTEN': [], 're-read every 1 s (no NOTIFY)': [] };
  for (const [what, port, notify] of [['NOTIFY + LISTEN', notifiedPort, true], ['re-read every 1 s (no NOTIFY)', pollingPort, false]]) {
    for (const delay of delays) {
      const sid = randomUUID();
      await db.query(
        `INSERT INTO sessions (id, owner, status, code_url, command, runner_backend, runner_credential, expires_at)
         VALUES ($1, 'bench', 'starting', 'https://x.example/r', 'bash', 'local', $2, now() + interval '1 hour')`,
        [sid, CREDENTIAL],
      );
      const client = await WsClient.connect(0, { protocol, url: `ws://127.0.0.1:${port}/ws/${sid}?token=${await token(sid)}` });
      await client.waitFor('the session is starting', 10_000);
      await new Promise((r) => setTimeout(r, delay));
      const prompt = client.waitFor('bench$ ', 10_000);
      const t0 = now();
      await db.query('BEGIN');
      await db.query(`UPDATE sessions SET status = 'running', runner_host = '127.0.0.1', runner_port = $2 WHERE id = $1`, [sid, runnerPort]);
      if (notify) await db.query("SELECT pg_notify('cliscale_sessions', $1)", [`${sid}:running`]);
      await db.query('COMMIT');
      results[what].push((await prompt).t - t0);
      client.ws.close();
    }
  }
  return { delays, results };
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
