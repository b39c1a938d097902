// Shared helpers: timing, statistics, /proc readings and the registry that kills every process we start.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';

/** Monotonic milliseconds. */
export const now = () => performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}

export function round(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** VmRSS / VmHWM of a process in MiB (from /proc/PID/status, which reports KiB). */
export function memoryOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, all threads) a process has used so far, in ms; NaN if it is gone. */
export function cpuTimeOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/PID/stat (utime, stime); `fields` starts at field 3.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** CPU time of this process (the bench, i.e. the client side), in ms. */
export function ownCpuTime() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to a process group (or, failing that, the process); never throws. */
export function killGroup(pid, signal = 'SIGKILL') {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Everything the bench starts registers a synchronous "kill it now" function here. They run on normal
 * exit, on error, on Ctrl+C and on SIGTERM, so no supervisor, tmux server or shell outlives the bench.
 */
const killers = new Map();
let nextKiller = 1;
export function registerKiller(fn) {
  const id = nextKiller++;
  killers.set(id, fn);
  return () => killers.delete(id);
}
export function killEverything() {
  for (const [id, fn] of [...killers].reverse()) {
    killers.delete(id);
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

/** A bench that hangs (a process that never answers) kills what it started and fails after `minutes`. */
export function startWatchdog(name, minutes) {
  const watchdog = setTimeout(() => {
    process.stderr.write(`${name}: watchdog: still running after ${minutes} minutes; stopping everything\n`);
    killEverything();
    process.exit(1);
  }, minutes * 60_000);
  watchdog.unref();
}

let handlersInstalled = false;
export function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killEverything);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}: stopping every process it started\n`);
      killEverything();
      process.exit(code);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: uncaught exception: ${err?.stack ?? err}\n`);
    killEverything();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection: ${err?.stack ?? err}\n`);
    killEverything();
    process.exit(1);
  });
}

/**
 * The shared codec is TypeScript source (@cliscale/protocol); Node 20 cannot import it directly, so it
 * is bundled in memory with esbuild (it has no dependencies) and imported from a data: URL.
 */
export function loadProtocol() {
  return loadTypeScript('protocol/src/index.ts');
}

/** Bundles a TypeScript module of the repository (path from the root) in memory and imports it. */
export async function loadTypeScript(pathFromRoot) {
  const entry = new URL(`../../${pathFromRoot}`, import.meta.url).pathname;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** Finds `needle` in a byte stream delivered in chunks (latin1, so any byte sequence is searchable). */
export class StreamMatcher {
  constructor(needle) {
    this.needle = needle;
    this.tail = '';
  }
  /** True once the needle has been seen (including across chunk boundaries). */
  feed(chunk) {
    const text = this.tail + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    if (text.includes(this.needle)) return true;
    this.tail = text.slice(-(this.needle.length - 1));
    return false;
  }
}
