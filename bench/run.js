#!/usr/bin/env node
// cliscale supervisor benchmark, with tmux 3.3a as the baseline in the same run. See bench/README.md.
//   npm run bench            (or: node bench/run.js)
//   BENCH_RUNS=5 npm run bench   runs per throughput/replay workload (default 3, median reported)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  cpuTimeOf,
  installExitHandlers,
  isAlive,
  ownCpuTime,
  killEverything,
  startWatchdog,
  loadProtocol,
  median,
  memoryOf,
  now,
  percentile,
  round,
  sleep,
} from './lib/common.js';
import { echoLatency } from './lib/echo-latency.js';
import { startHealthzProbe } from './lib/healthz-probe.js';
import { HISTORY, shellEnv, startSupervisorWithClient, startTmux } from './lib/shells.js';
import { tmuxVersion } from './lib/tmux.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const ECHO_SAMPLES = Math.max(50, Number(process.env.BENCH_ECHO_SAMPLES ?? 400));
const ECHO_WARMUP = 20;
// Lines printed to fill the scrollback. With the command line, the marker and two prompts, FILL_LINES + 3
// lines scroll through a 24-row screen, leaving FILL_LINES - 21 = 99,999 lines of history. One more and tmux
// would reach its history-limit and drop a tenth of it at once (grid_collect_history), leaving 90,000.
const FILL_LINES = 100_020;
const TARGETS = { seqMs: 1070, base64Ms: 1480, echoP99Ms: 0.43, tmuxRssMiB: 47 };
const WORKLOADS = [
  { key: 'seq', label: 'seq 1 2000000', command: 'seq 1 2000000', targetMs: TARGETS.seqMs },
  { key: 'base64', label: 'head -c 30000000 /dev/urandom | base64', command: 'head -c 30000000 /dev/urandom | base64', targetMs: TARGETS.base64Ms },
];

const epoch = (t) => performance.timeOrigin + t;
const rand = () => 10_000 + Math.floor(Math.random() * 89_999);
const log = (msg) => process.stderr.write(`[bench ${((now() - startedAt) / 1000).toFixed(1)}s] ${msg}\n`);
const startedAt = now();

/** The bench runs the built bundle (supervisor/dist): warn when a source file is newer than it. */
function checkBuild() {
  const src = new URL('../supervisor/src/', import.meta.url).pathname;
  const dist = new URL('../supervisor/dist/cli.js', import.meta.url).pathname;
  let built;
  try {
    built = statSync(dist).mtimeMs;
  } catch {
    throw new Error('supervisor/dist/cli.js is missing: run "npm run build" first');
  }
  const newer = readdirSync(src, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && statSync(`${src}${f}`).mtimeMs > built);
  if (newer.length) process.stderr.write(`bench: warning: supervisor/src is newer than dist (${newer.slice(0, 3).join(', ')}): run "npm run build"\n`);
  return newer.length === 0;
}

/** Bytes a command writes to its stdout (the pty then turns each \n into \r\n). */
function payloadBytes(command) {
  return Number(execFileSync('/bin/sh', ['-c', `${command} | wc -c`], { encoding: 'utf8' }).trim());
}

// ---------------------------------------------------------------------------------------------------------
// Workload 3: keystroke echo. One key at a time into bash's readline (alternately "a" and DEL, so the line
// never grows); latency = from handing the key to the transport until the first output byte comes back.

function echoSupervisor(client) {
  return echoLatency(ECHO_WARMUP + ECHO_SAMPLES, ECHO_WARMUP, {
    send: (key) => client.input(key),
    subscribe: (fn) => {
      const listener = (chunk, t) => fn(Buffer.from(chunk).toString('latin1'), t);
      client.listeners.add(listener);
      return () => client.listeners.delete(listener);
    },
  });
}

async function echoTmux(tm) {
  const term = tm.attachClient({ columns: 80, rows: 24 });
  let last = now();
  const listeners = new Set();
  term.onData((data) => {
    const t = now();
    last = t;
    for (const l of [...listeners]) l(data, t);
  });
  // Let the attach redraw finish.
  const start = now();
  while (now() - last < 300 && now() - start < 5000) await sleep(10);
  try {
    return await echoLatency(ECHO_WARMUP + ECHO_SAMPLES, ECHO_WARMUP, {
      send: (key) => term.write(key),
      subscribe: (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    });
  } finally {
    term.kill(); // SIGHUP: the client detaches, the session stays
    tm.clients.delete(term);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Workloads 1 and 2: throughput of a command's output until it is at the client (supervisor) or on tmux's
// screen (tmux, polled with capture-pane every 5 ms).

async function throughputSupervisor(sup, client, command) {
  const n = rand();
  const marker = `DONE_${n}`;
  const done = client.waitFor(marker, 120_000);
  const cpu0 = cpuTimeOf(sup.pid);
  const own0 = ownCpuTime();
  const t0 = now();
  client.input(`${command}; printf '%s_%s\\n' DONE ${n}\r`);
  const r = await done;
  const clientCpuMs = ownCpuTime() - own0;
  // GET /screen is answered by the terminal model after it has parsed every byte received so far.
  await sup.screen(1);
  const tModel = now();
  const cpuMs = cpuTimeOf(sup.pid) - cpu0; // main thread and terminal-model worker, until the model caught up
  await client.quiet(150);
  return { ms: r.t - t0, modelMs: tModel - t0, firstByteMs: r.firstAt - t0, bytes: r.bytes, replays: r.resets, cpuMs, clientCpuMs };
}

async function throughputTmux(tm, command) {
  const n = rand();
  const cpu0 = cpuTimeOf(tm.serverPid);
  const t0 = now();
  await tm.sendLine(`${command}; printf '%s_%s\\n' DONE ${n}`);
  const r = await tm.waitFor(`DONE_${n}`, { intervalMs: 5, timeoutMs: 120_000 });
  const cpuMs = cpuTimeOf(tm.serverPid) - cpu0;
  await sleep(150);
  return { ms: r.t - t0, polls: r.polls, cpuMs };
}

// ---------------------------------------------------------------------------------------------------------
// Workload 4: reconnect replay with a full 100k-line scrollback.

async function replaySupervisor(sup, protocol) {
  const n = rand();
  const marker = `RDY_${n}`;
  const probe = await startHealthzProbe(sup.port, 5);
  await sleep(300); // idle reference samples
  let arrived;
  const t0 = now();
  const client = await sup.connect({
    protocol,
    onOpen: (c) => {
      // Typed right after init: its output is live, so it reaches the client after the whole replay.
      arrived = c.waitFor(marker, 60_000);
      c.input(`printf '%s_%s\\n' RDY ${n}\r`);
    },
  });
  let r;
  let samples;
  try {
    r = await arrived;
  } finally {
    await sleep(150);
    samples = await probe.stop();
    await client.close();
  }
  const from = epoch(t0);
  const to = epoch(r.t);
  const during = samples.filter(([s, lat]) => s <= to && s + Math.max(lat, 0) >= from).map(([, lat]) => lat);
  // Idle reference: before the client connected, skipping the first probe (it opens the TCP connection).
  const idle = samples.slice(1).filter(([s, lat]) => s + lat < from).map(([, lat]) => lat);
  const failed = samples.filter(([, lat]) => lat < 0).length;
  return {
    ms: r.t - t0,
    firstByteMs: r.firstAt - t0,
    bytes: r.bytes,
    stallMaxMs: during.length ? Math.max(...during) : NaN,
    stallP99Ms: percentile(during, 99),
    probesDuring: during.length,
    idleMaxMs: idle.length ? Math.max(...idle) : NaN,
    probeErrors: failed,
  };
}

async function replayTmux(tm) {
  const t0 = now();
  const out = await tm.capture(['-S', `-${HISTORY}`]);
  const ms = now() - t0;
  return { ms, bytes: Buffer.byteLength(out), lines: out.split('\n').length - 1 };
}

// ---------------------------------------------------------------------------------------------------------

async function fillSupervisor(sup, client) {
  const n = rand();
  const done = client.waitFor(`FILLED_${n}`, 120_000);
  const t0 = now();
  client.input(`seq -f '%079g' 1 ${FILL_LINES}; printf '%s_%s\\n' FILLED ${n}\r`);
  await done;
  const tClient = now() - t0;
  const { dump } = await sup.screen(0);
  await client.quiet(150);
  return { clientMs: tClient, modelMs: now() - t0, scrollbackLines: dump.scrollbackLines };
}

async function fillTmux(tm) {
  const n = rand();
  const t0 = now();
  await tm.sendLine(`seq -f '%079g' 1 ${FILL_LINES}; printf '%s_%s\\n' FILLED ${n}`);
  await tm.waitFor(`FILLED_${n}`);
  const ms = now() - t0;
  const historySize = Number((await tm.run(['display', '-p', '-t', 'bench', '#{history_size}'])).trim());
  return { ms, historySize };
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  installExitHandlers();
  startWatchdog('bench', 6);

  const buildFresh = checkBuild();
  const protocol = await loadProtocol();
  const env = shellEnv();
  const tmuxInfo = tmuxVersion();
  if (!tmuxInfo) {
    process.stderr.write(
      '\nbench: tmux was not found, so the baseline is skipped.\n' +
        '       Install it with:  apt-get install -y tmux   (the issue measured tmux 3.3a)\n\n',
    );
  } else if (tmuxInfo.version !== 'tmux 3.3a') {
    process.stderr.write(`bench: note: baseline is ${tmuxInfo.version}, the issue measured tmux 3.3a\n`);
  }
  const withTmux = Boolean(tmuxInfo);
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }

  const results = {
    date: new Date().toISOString(),
    machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, node: process.version },
    commit,
    supervisorBuildUpToDate: buildFresh,
    tmux: tmuxInfo?.version ?? null,
    runs: RUNS,
    workloads: {},
    observations: [],
  };

  const payload = Object.fromEntries(WORKLOADS.map((w) => [w.key, payloadBytes(w.command)]));

  // ---- Phase A: echo latency and throughput, on one supervisor and one tmux session -----------------------
  log('phase A: starting a supervisor and a tmux server, each running bash');
  const a = await startSupervisorWithClient(protocol, env);
  const tmA = withTmux ? await startTmux(tmuxInfo.bin, env, 'a') : undefined;

  log(`echo latency: ${ECHO_SAMPLES} keystrokes each`);
  const echoSup = await echoSupervisor(a.client);
  const echoTm = tmA ? await echoTmux(tmA) : undefined;
  results.workloads.echo = { supervisor: echoSup, tmux: echoTm ?? null };

  for (const w of WORKLOADS) {
    const supRuns = [];
    const tmRuns = [];
    for (let i = 0; i < RUNS; i++) {
      log(`${w.label}: run ${i + 1}/${RUNS}`);
      supRuns.push(await throughputSupervisor(a.sup, a.client, w.command));
      if (tmA) tmRuns.push(await throughputTmux(tmA, w.command));
    }
    results.workloads[w.key] = {
      command: w.command,
      payloadBytes: payload[w.key],
      supervisor: {
        medianMs: median(supRuns.map((r) => r.ms)),
        medianModelMs: median(supRuns.map((r) => r.modelMs)),
        medianCpuMs: median(supRuns.map((r) => r.cpuMs)),
        medianClientCpuMs: median(supRuns.map((r) => r.clientCpuMs)),
        runs: supRuns,
      },
      tmux: tmA ? { medianMs: median(tmRuns.map((r) => r.ms)), medianCpuMs: median(tmRuns.map((r) => r.cpuMs)), runs: tmRuns } : null,
    };
  }
  const statusA = await a.sup.status();
  results.workloads.phaseA = { supervisorStatus: statusA };

  log('phase A: stopping');
  await a.client.close();
  const exitA = await a.sup.stop();
  if (tmA) await tmA.kill();
  results.workloads.phaseA.supervisorExit = exitA;

  // ---- Phase B: 100k lines of scrollback: replay and memory, on fresh instances ---------------------------
  log('phase B: fresh supervisor and tmux server');
  const b = await startSupervisorWithClient(protocol, env);
  const tmB = withTmux ? await startTmux(tmuxInfo.bin, env, 'b') : undefined;
  await sleep(300);
  const rssIdle = { supervisor: memoryOf(b.sup.pid), tmux: tmB ? memoryOf(tmB.serverPid) : null };

  log(`filling ${FILL_LINES} lines of 79 characters`);
  const fillSup = await fillSupervisor(b.sup, b.client);
  const fillTm = tmB ? await fillTmux(tmB) : undefined;
  await sleep(500);
  const rssFilled = { supervisor: memoryOf(b.sup.pid), tmux: tmB ? memoryOf(tmB.serverPid) : null };

  const replaySup = [];
  const replayTm = [];
  let rssOneReplay;
  for (let i = 0; i < RUNS; i++) {
    log(`replay: run ${i + 1}/${RUNS}`);
    replaySup.push(await replaySupervisor(b.sup, protocol));
    if (tmB) replayTm.push(await replayTmux(tmB));
    await sleep(300);
    replaySup.at(-1).rssAfterMiB = memoryOf(b.sup.pid).rssMiB;
    if (tmB) replayTm.at(-1).rssAfterMiB = memoryOf(tmB.serverPid).rssMiB;
    if (i === 0) rssOneReplay = { supervisor: memoryOf(b.sup.pid), tmux: tmB ? memoryOf(tmB.serverPid) : null };
  }
  await sleep(500);
  const rssAfterReplay = { supervisor: memoryOf(b.sup.pid), tmux: tmB ? memoryOf(tmB.serverPid) : null };
  results.workloads.replay = {
    fill: { supervisor: fillSup, tmux: fillTm ?? null },
    supervisor: {
      medianMs: median(replaySup.map((r) => r.ms)),
      medianStallMaxMs: median(replaySup.map((r) => r.stallMaxMs)),
      runs: replaySup,
    },
    tmux: tmB ? { medianMs: median(replayTm.map((r) => r.ms)), runs: replayTm } : null,
  };
  results.workloads.rss = { idle: rssIdle, filled: rssFilled, afterOneReplay: rssOneReplay, afterAllReplays: rssAfterReplay };

  log('phase B: stopping');
  await b.client.close();
  const exitB = await b.sup.stop();
  if (tmB) await tmB.kill();
  results.workloads.replay.supervisorExit = exitB;

  // ---- Leftovers and observations ---------------------------------------------------------------------------
  const pids = [a.sup.pid, a.sup.commandPid, b.sup.pid, b.sup.commandPid, tmA?.serverPid, tmA?.panePid, tmB?.serverPid, tmB?.panePid, tmA?.probePanePid, tmB?.probePanePid].filter(Boolean);
  const leftovers = pids.filter(isAlive);
  results.leftoverPids = leftovers;
  for (const sup of [a.sup, b.sup]) for (const line of sup.notable) results.observations.push(`supervisor :${sup.port} log: ${line}`);
  for (const w of WORKLOADS) {
    const extra = results.workloads[w.key].supervisor.runs.filter((r) => r.replays > 0);
    if (extra.length) results.observations.push(`${w.label}: the client received ${extra.map((r) => r.replays).join(', ')} replay(s) (ESC c) during the run: it fell behind and was resynchronised`);
  }
  if (fillSup.scrollbackLines < HISTORY - 100) results.observations.push(`supervisor scrollback after the fill: ${fillSup.scrollbackLines} lines (expected ${HISTORY})`);
  if (fillTm && fillTm.historySize < HISTORY - 100) results.observations.push(`tmux history after the fill: ${fillTm.historySize} lines (expected ~${HISTORY})`);
  for (const [name, exit] of [['phase A', exitA], ['phase B', exitB]]) {
    if (exit?.code === null) results.observations.push(`${name}: supervisor ${exit.signal}`);
  }
  results.totalSeconds = round((now() - startedAt) / 1000, 1);

  report(results, withTmux);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL('./results/latest.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, roundReplacer, 2)}\n`);
  console.log(`\nresults written to bench/results/latest.json (total ${results.totalSeconds} s)`);
  if (leftovers.length) {
    console.log(`WARNING: processes still alive after the bench: ${leftovers.join(', ')} (killing them now)`);
    killEverything();
    process.exitCode = 1;
  }
}

function roundReplacer(_key, value) {
  return typeof value === 'number' && !Number.isInteger(value) ? round(value, 3) : value;
}

// ---------------------------------------------------------------------------------------------------------

function report(r, withTmux) {
  const w = r.workloads;
  const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
  const rows = [];
  const row = (label, sup, tm, target = '', unit = '') => rows.push({ label, sup, tm, target, unit });
  const sep = (label) => rows.push({ sep: label });

  for (const wl of WORKLOADS) {
    const x = w[wl.key];
    sep(`${wl.label}  (${(x.payloadBytes / 1e6).toFixed(1)} MB of output; ${RUNS} runs, median)`);
    row('command sent -> end marker seen (ms)', x.supervisor.medianMs, x.tmux?.medianMs, wl.targetMs);
    row('throughput (MB/s)', mbps(x.payloadBytes, x.supervisor.medianMs), x.tmux ? mbps(x.payloadBytes, x.tmux.medianMs) : undefined,
      mbps(x.payloadBytes, wl.targetMs));
    row('supervisor model caught up (ms)', x.supervisor.medianModelMs, undefined);
    row('CPU time of the supervisor / tmux server process (ms)', x.supervisor.medianCpuMs, x.tmux?.medianCpuMs);
    row('CPU time of the bench WebSocket client (ms)', x.supervisor.medianClientCpuMs, undefined);
  }
  sep(`keystroke echo (${w.echo.supervisor.samples} keys, alternating "a" and DEL into bash readline)`);
  row('echo p50 (ms)', w.echo.supervisor.p50, w.echo.tmux?.p50);
  row('echo p99 (ms)', w.echo.supervisor.p99, w.echo.tmux?.p99, TARGETS.echoP99Ms);
  row('echo max (ms)', w.echo.supervisor.max, w.echo.tmux?.max);
  sep(`reconnect with ${HISTORY} lines x 80 columns of scrollback (${RUNS} runs, median)`);
  row('fresh client has full replay (ms) | tmux: capture-pane -S -100000', w.replay.supervisor.medianMs, w.replay.tmux?.medianMs);
  row('replay size (MB) | tmux: capture-pane output', median(w.replay.supervisor.runs.map((x) => x.bytes)) / 1e6,
    w.replay.tmux ? median(w.replay.tmux.runs.map((x) => x.bytes)) / 1e6 : undefined);
  row('supervisor longest /healthz stall during replay (ms)', w.replay.supervisor.medianStallMaxMs, undefined);
  row('  same, idle before the replay (ms)', median(w.replay.supervisor.runs.map((x) => x.idleMaxMs)), undefined);
  sep('memory (VmRSS of the supervisor process / the tmux server process)');
  row('RSS idle, bash at prompt (MiB)', w.rss.idle.supervisor.rssMiB, w.rss.idle.tmux?.rssMiB);
  row('RSS after 100k lines were absorbed (MiB)', w.rss.filled.supervisor.rssMiB, w.rss.filled.tmux?.rssMiB);
  row('RSS with 100k lines, after one replay (MiB)', w.rss.afterOneReplay.supervisor.rssMiB, w.rss.afterOneReplay.tmux?.rssMiB, TARGETS.tmuxRssMiB);
  row(`RSS after ${RUNS} replays (MiB)`, w.rss.afterAllReplays.supervisor.rssMiB, w.rss.afterAllReplays.tmux?.rssMiB);
  row('peak RSS, VmHWM (MiB)', w.rss.afterAllReplays.supervisor.hwmMiB, w.rss.afterAllReplays.tmux?.hwmMiB);

  const fmt = (x) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const W = [62, 11, 11, 9, 12];
  const pad = (s, n, left = false) => (left ? String(s).padEnd(n) : String(s).padStart(n));
  console.log('');
  console.log(`cliscale supervisor vs ${r.tmux ?? 'tmux (missing: baseline skipped)'}  |  node ${r.machine.node}, ${r.machine.cpus} CPUs, ${r.date}${r.commit ? `, commit ${r.commit}` : ''}`);
  console.log(pad('', W[0], true) + pad('supervisor', W[1]) + pad('tmux', W[2]) + pad('sup/tmux', W[3]) + pad('target*', W[4]));
  for (const x of rows) {
    if (x.sep) {
      console.log(`\n${x.sep}`);
      continue;
    }
    const ratio = withTmux && Number.isFinite(x.sup) && Number.isFinite(x.tm) && x.tm > 0 ? `${(x.sup / x.tm).toFixed(2)}x` : '-';
    console.log(pad(`  ${x.label}`, W[0], true) + pad(fmt(x.sup), W[1]) + pad(fmt(x.tm), W[2]) + pad(ratio, W[3]) + pad(x.target === '' ? '' : fmt(x.target), W[4]));
  }
  console.log('\n* target: ttyd + tmux as measured for the issue (client-side times; tmux RSS for the memory row).');
  console.log('  tmux throughput = until the marker is on its screen (detached session, capture-pane polled every 5 ms);');
  console.log('  tmux echo = a real tmux client attached in a pty; supervisor echo = a WebSocket client.');

  console.log('\nper-run values (ms):');
  for (const wl of WORKLOADS) {
    const x = w[wl.key];
    console.log(`  ${wl.key.padEnd(7)} supervisor ${x.supervisor.runs.map((q) => fmt(q.ms)).join(' / ')}  (model ${x.supervisor.runs.map((q) => fmt(q.modelMs)).join(' / ')})` +
      (x.tmux ? `   tmux ${x.tmux.runs.map((q) => fmt(q.ms)).join(' / ')}` : ''));
  }
  console.log(`  replay  supervisor ${w.replay.supervisor.runs.map((q) => fmt(q.ms)).join(' / ')}  (first byte ${w.replay.supervisor.runs.map((q) => fmt(q.firstByteMs)).join(' / ')}; ` +
    `stall ${w.replay.supervisor.runs.map((q) => fmt(q.stallMaxMs)).join(' / ')})` +
    (w.replay.tmux ? `   tmux capture-pane ${w.replay.tmux.runs.map((q) => fmt(q.ms)).join(' / ')}` : ''));
  console.log(`  supervisor RSS after each replay (MiB): ${w.replay.supervisor.runs.map((q) => fmt(q.rssAfterMiB)).join(' / ')}`);
  const f = w.replay.fill;
  console.log(`  fill ${FILL_LINES} lines: supervisor client ${fmt(f.supervisor.clientMs)} ms, model ${fmt(f.supervisor.modelMs)} ms, ` +
    `scrollback ${f.supervisor.scrollbackLines} lines` + (f.tmux ? `; tmux ${fmt(f.tmux.ms)} ms, history ${f.tmux.historySize} lines` : ''));

  if (r.observations.length) {
    console.log('\nobservations:');
    for (const o of r.observations) console.log(`  - ${o}`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  killEverything();
  process.exit(1);
});
