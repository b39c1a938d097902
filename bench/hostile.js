// A normal client next to hostile ones: keystroke echo and output throughput of one well-behaved ttyd client,
// first with nobody else connected, then with BENCH_HOSTILE (100) hostile connections open against the same
// listener, for a supervisor reached directly (with a credential, as in a pod) and for the built gateway in
// front of it. Hostile connections come from other loopback addresses (127.0.0.2 and up), so per-address
// limits do not decide the outcome: the listener has to keep them from starving everyone else.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import pg from 'pg';
import { installExitHandlers, loadProtocol, memoryOf, now, registerKiller, round, sleep } from './lib/common.js';
import { echoLatency } from './lib/echo-latency.js';
import { Supervisor, WsClient } from './lib/supervisor.js';

const root = new URL('..', import.meta.url).pathname;
const HOSTILE = Math.max(1, Number(process.env.BENCH_HOSTILE ?? 100));
const CREDENTIAL = 'cliscale:bench-credential';
const SEQ = 'seq 1 500000';

/** One hostile peer of a kind, from its own loopback address; `close()` ends it. */
function hostilePeer(kind, index, target) {
  const localAddress = `127.0.${1 + Math.floor(index / 250)}.${2 + (index % 250)}`;
  const sockets = new Set();
  let stopped = false;
  const open = (bytes) => {
    const socket = connect({ port: target.port, host: '127.0.0.1', localAddress });
    socket.on('error', () => {});
    socket.on('data', () => {}); // read whatever comes, so the server is never blocked on us
    socket.on('close', () => sockets.delete(socket));
    sockets.add(socket);
    if (bytes) socket.write(bytes);
    return socket;
  };
  const timers = [];
  const every = (ms, fn) => timers.push(setInterval(fn, ms));
  switch (kind) {
    case 'slowloris': {
      // Headers that never end: one more line a second.
      const socket = open(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
      every(1000, () => !socket.destroyed && socket.write(`X-Slow-${Date.now()}: ${'a'.repeat(10)}\r\n`));
      break;
    }
    case 'upgrade without credential, no init':
      open(target.upgrade(false));
      break;
    case 'upgrade with credential, no init':
      open(target.upgrade(true));
      break;
    case 'idle TCP':
      open();
      break;
    case 'garbage, reconnecting':
      every(500, () => {
        if (stopped || sockets.size > 2) return;
        const socket = open(randomBytes(64 + (index % 512)));
        setTimeout(() => socket.destroy(), 400);
      });
      break;
  }
  const unregister = registerKiller(() => [...sockets].forEach((s) => s.destroy()));
  return {
    kind,
    openSockets: () => [...sockets].filter((s) => !s.destroyed).length,
    close() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      unregister();
    },
  };
}

const KINDS = ['slowloris', 'upgrade without credential, no init', 'upgrade with credential, no init', 'idle TCP', 'garbage, reconnecting'];

/** Echo and throughput of one normal client: connect, wait for the prompt, seq to an end marker, 200 keys. */
async function measure(connectClient, label) {
  const t0 = now();
  let client;
  try {
    client = await connectClient();
    await client.waitFor('bench$ ', 15_000);
  } catch (err) {
    client?.ws.terminate();
    return { label, refused: `${err.message ?? err}`.slice(0, 120) };
  }
  const connectMs = now() - t0;
  await client.quiet(150);
  const marker = `DONE_${label.replace(/\W+/g, '_')}`;
  const done = client.waitFor(marker, 120_000);
  const t1 = now();
  client.input(`${SEQ}; echo ${marker.replace('DONE', 'DO""NE')}\r`);
  const seqMs = (await done).t - t1;
  await client.quiet(150);
  const echo = await echoLatency(220, 20, {
    send: (key) => client.input(key),
    subscribe: (fn) => {
      const listener = (chunk, t) => fn(Buffer.from(chunk).toString('latin1'), t);
      client.listeners.add(listener);
      return () => client.listeners.delete(listener);
    },
  });
  client.ws.close();
  return { label, connectMs, seqMs, echo };
}

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
    setTimeout(() => reject(new Error(`the gateway did not report listening within 20 s: ${out}`)), 20_000).unref();
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"port":(\d+),"jwks"/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}): ${out}`)));
  });
}

const upgradeRequest = (path, headers = []) =>
  [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Protocol: tty', ...headers, '', ''].join('\r\n');

async function main() {
  installExitHandlers();
  const protocol = await loadProtocol();
  const dataDir = mkdtempSync(join(tmpdir(), 'cliscale-bench-hostile-'));
  const { startEmbeddedPostgres } = await import('../local/dist/embedded-postgres.js');
  const postgres = await startEmbeddedPostgres({ dataDir });
  const keys = await jwksServer();
  const shellEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LC_ALL: 'C', TERM: 'xterm-256color', PS1: 'bench$ ', CREDENTIAL };
  const sup = await Supervisor.start({ command: ['bash', '--norc', '--noprofile'], env: shellEnv });
  let gateway;
  const db = new pg.Client({ connectionString: postgres.url });
  try {
    await new Promise((resolve, reject) =>
      spawn(process.execPath, [join(root, 'database/dist/migrate.js'), '--database-url', postgres.url], { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? resolve() : reject(new Error('migrate failed')))),
    );
    await db.connect();
    const session = async () => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO sessions (id, owner, status, code_url, command, runner_backend, runner_credential, runner_host, runner_port, expires_at)
         VALUES ($1, 'bench', 'running', 'https://x.example/r', 'bash', 'local', $2, '127.0.0.1', $3, now() + interval '1 hour')`,
        [id, CREDENTIAL, sup.port],
      );
      return id;
    };
    const token = async (sid) => {
      const jti = randomUUID();
      await db.query(`INSERT INTO session_tokens (jti, session_id, mode, subject, expires_at) VALUES ($1, $2, 'interact', 'bench', now() + interval '5 minutes')`, [jti, sid]);
      return new SignJWT({ sid, mode: 'interact' }).setProtectedHeader({ alg: 'RS256', kid: keys.kid }).setIssuer('cliscale').setAudience('cliscale-gateway')
        .setSubject('bench').setJti(jti).setIssuedAt().setNotBefore('0s').setExpirationTime('5m').sign(keys.privateKey);
    };
    gateway = await startGateway({ DATABASE_URL: postgres.url, JWKS_URL: keys.url, LOG_LEVEL: 'info' });
    const sessionId = await session();
    const decoy = await session();
    // Tokens for the hostile peers that present one: minted before, so that minting is not measured.
    const decoyTokens = await Promise.all(Array.from({ length: HOSTILE }, () => token(decoy)));
    const authToken = Buffer.from(CREDENTIAL).toString('base64');

    const routes = [
      {
        name: 'supervisor (direct, -c)',
        port: sup.port,
        pid: sup.pid,
        connect: () => WsClient.connect(sup.port, { protocol, authToken }),
        upgrade: (credential) => upgradeRequest('/ws', credential ? [`Authorization: Basic ${authToken}`] : []),
      },
      {
        name: 'gateway',
        port: gateway.port,
        pid: gateway.child.pid,
        connect: async () => WsClient.connect(0, { protocol, url: `ws://127.0.0.1:${gateway.port}/ws/${sessionId}?token=${await token(sessionId)}` }),
        upgrade: (credential) => upgradeRequest(`/ws/${decoy}${credential ? `?token=${decoyTokens.pop() ?? ''}` : ''}`),
      },
    ];
    const rows = [];
    for (const route of routes) {
      process.stderr.write(`${route.name}: alone…\n`);
      await measure(route.connect, `${route.name} warm-up`); // first connection and first seq warm caches up
      const quiet = await measure(route.connect, `${route.name} quiet`);
      process.stderr.write(`${route.name}: opening ${HOSTILE} hostile connections…\n`);
      const peers = Array.from({ length: HOSTILE }, (_, i) => hostilePeer(KINDS[i % KINDS.length], i, route));
      await sleep(2000); // let every hostile peer connect and settle into what it does
      const openBefore = peers.reduce((n, p) => n + p.openSockets(), 0);
      process.stderr.write(`${route.name}: measuring next to them…\n`);
      const hostile = await measure(route.connect, `${route.name} hostile`);
      const openAfter = Object.fromEntries(KINDS.map((k) => [k, peers.filter((p) => p.kind === k).reduce((n, p) => n + p.openSockets(), 0)]));
      const rssMiB = memoryOf(route.pid).rssMiB;
      for (const p of peers) p.close();
      rows.push({ route: route.name, quiet, hostile, openBefore, openAfter, rssMiB });
    }

    console.log(`\none normal client, alone and next to ${HOSTILE} hostile connections (${KINDS.join(', ')}; an equal share each)\n`);
    const fmt = (r) => (r.refused ? `refused: ${r.refused}` : `connect ${round(r.connectMs, 0)} ms, ${SEQ} ${round(r.seqMs, 0)} ms, echo p50/p99 ${round(r.echo.p50)}/${round(r.echo.p99)} ms`);
    for (const r of rows) {
      console.log(`${r.route}`);
      console.log(`  alone:        ${fmt(r.quiet)}`);
      console.log(`  with hostile: ${fmt(r.hostile)}`);
      if (!r.quiet.refused && !r.hostile.refused) {
        console.log(`  ratio:        seq ${round(r.hostile.seqMs / r.quiet.seqMs, 2)}x, echo p50 ${round(r.hostile.echo.p50 / r.quiet.echo.p50, 2)}x`);
      }
      console.log(`  hostile sockets still open: ${r.openBefore} after 2 s; at the end ${JSON.stringify(r.openAfter)}; server RSS ${round(r.rssMiB, 0)} MiB`);
    }
    console.log(`\n(median figures of one run each; BENCH_HOSTILE=${HOSTILE})`);
  } finally {
    await db.end().catch(() => {});
    gateway?.child.kill('SIGTERM');
    await sup.stop?.();
    keys.close();
    await postgres.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
