#!/usr/bin/env node
// Interrupting a flood: how long after Ctrl+C the shell answers again, supervisor vs tmux, idle and with two
// busy processes on the machine. See bench/README.md.
//   npm run bench:interrupt      BENCH_RUNS=N runs per condition (default 5; median and max reported)
import { spawn } from 'node:child_process';
import { installExitHandlers, killEverything, killGroup, loadProtocol, median, now, registerKiller, sleep, startWatchdog } from './lib/common.js';
import { shellEnv, startSupervisorWithClient, startTmux } from './lib/shells.js';
import { tmuxVersion } from './lib/tmux.js';

// The slow cases are the tail (the command caught paused at the parse backlog): a few runs are needed to see it.
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
/** How long the flood runs before Ctrl+C: long enough to fill every buffer and the terminal model's backlog. */
const FLOOD_MS = 3_000;
const FLOOD = "yes 'a line of a flood that only Ctrl+C stops'";
const HOGS = 2;

const rand = () => 10_000 + Math.floor(Math.random() * 89_999);
const log = (msg) => process.stderr.write(`[bench:interrupt] ${msg}\n`);

/** Busy loops at normal priority, as other work on a laptop or a shared node would be. */
function startHogs(n) {
  const hogs = [];
  for (let i = 0; i < n; i++) {
    const hog = spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true });
    hogs.push({ pid: hog.pid, unregister: registerKiller(() => killGroup(hog.pid)) });
  }
  return () => {
    for (const h of hogs) {
      killGroup(h.pid);
      h.unregister();
    }
  };
}

/** Ctrl+C, then a marker command: the time until the marker's output arrives is when the shell answers. */
async function interruptSupervisor(sup, client) {
  client.input(`${FLOOD}\r`);
  await sleep(FLOOD_MS);
  const n = rand();
  const done = client.waitFor(`INT_${n}`, 120_000);
  const t0 = now();
  client.input('\x03');
  client.input(`printf '%s_%s\\n' INT ${n}\r`);
  const r = await done;
  const ms = r.t - t0;
  await sup.screen(1); // the terminal model has caught up: the next run starts from the same state
  await client.quiet(300);
  return { ms, resets: r.resets };
}

async function interruptTmux(tm) {
  await tm.sendLine(FLOOD);
  await sleep(FLOOD_MS);
  const n = rand();
  const t0 = now();
  await tm.run(['send-keys', '-t', 'bench', 'C-c']);
  await tm.sendLine(`printf '%s_%s\\n' INT ${n}`);
  const r = await tm.waitFor(`INT_${n}`, { intervalMs: 5, timeoutMs: 120_000 });
  const ms = r.t - t0;
  await sleep(300);
  return { ms };
}

async function measure(protocol, env, tmuxInfo, condition) {
  const stopHogs = condition === 'busy' ? startHogs(HOGS) : () => {};
  try {
    const { sup, client } = await startSupervisorWithClient(protocol, env);
    const tm = tmuxInfo ? await startTmux(tmuxInfo.bin, env, `int-${condition}`) : undefined;
    const supRuns = [];
    const tmRuns = [];
    for (let i = 0; i < RUNS; i++) {
      log(`${condition}: run ${i + 1}/${RUNS}`);
      supRuns.push(await interruptSupervisor(sup, client));
      if (tm) tmRuns.push(await interruptTmux(tm));
    }
    await client.close();
    await sup.stop();
    if (tm) await tm.kill();
    return { supervisor: supRuns, tmux: tm ? tmRuns : null, notable: sup.notable };
  } finally {
    stopHogs();
  }
}

async function main() {
  installExitHandlers();
  startWatchdog('bench:interrupt', 4);
  const protocol = await loadProtocol();
  const env = shellEnv();
  const tmuxInfo = tmuxVersion();
  if (!tmuxInfo) process.stderr.write('bench:interrupt: tmux was not found, so the baseline is skipped (apt-get install -y tmux)\n');

  const results = {};
  for (const condition of ['idle', 'busy']) results[condition] = await measure(protocol, env, tmuxInfo, condition);

  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : 1) : '-');
  const stats = (runs) => (runs ? { median: median(runs.map((r) => r.ms)), max: Math.max(...runs.map((r) => r.ms)) } : undefined);
  console.log(`\nCtrl+C during \`${FLOOD}\` (after ${FLOOD_MS / 1000} s of flood) -> the shell's next output arrives (ms; ${RUNS} runs)`);
  console.log(`${''.padEnd(44)}${'supervisor'.padStart(12)}${(tmuxInfo?.version ?? 'tmux').padStart(12)}`);
  for (const condition of ['idle', 'busy']) {
    const r = results[condition];
    const s = stats(r.supervisor);
    const t = stats(r.tmux);
    const label = condition === 'idle' ? 'idle machine' : `${HOGS} busy processes on ${HOGS === 1 ? 'a core' : 'the cores'}`;
    console.log(`  ${`${label}, median`.padEnd(42)}${fmt(s.median).padStart(12)}${fmt(t?.median).padStart(12)}`);
    console.log(`  ${`${label}, max`.padEnd(42)}${fmt(s.max).padStart(12)}${fmt(t?.max).padStart(12)}`);
    console.log(`    per run: supervisor ${r.supervisor.map((x) => fmt(x.ms)).join(' / ')}${r.tmux ? `; tmux ${r.tmux.map((x) => fmt(x.ms)).join(' / ')}` : ''}`);
    for (const line of r.notable) console.log(`    supervisor log: ${line}`);
  }
  console.log('  supervisor: a WebSocket client that reads everything; tmux: detached, capture-pane polled every 5 ms.');
}

main().catch((err) => {
  process.stderr.write(`bench:interrupt failed: ${err?.stack ?? err}\n`);
  killEverything();
  process.exit(1);
});
