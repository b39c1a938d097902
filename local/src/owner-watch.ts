import { spawn } from 'node:child_process';

/**
 * Runs in a small separate process: a SIGKILLed owner cannot stop its database, and no hook of its own runs
 * then. It checks both pids twice a second; once the owner is gone it asks PostgreSQL for a fast shutdown
 * (SIGINT), and it exits as soon as PostgreSQL has, either way. The pids are argv, never part of the code.
 */
const WATCH = `
const [owner, postmaster] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; } };
setInterval(() => {
  if (!alive(postmaster)) process.exit(0);
  if (!alive(owner)) {
    try { process.kill(postmaster, 'SIGINT'); } catch {}
    process.exit(0);
  }
}, 500);
`;

/** Stops PostgreSQL (pid `postmaster`) if this process dies without doing it. Returns: stop watching. */
export function watchOwner(postmaster: number): () => void {
  // Own process group, no stdio: a Ctrl+C at the terminal reaches the owner, which stops everything in order.
  const watcher = spawn(process.execPath, ['-e', WATCH, String(process.pid), String(postmaster)], { detached: true, stdio: 'ignore' });
  watcher.on('error', () => {}); // best effort: without it, the next start still stops a left-behind server
  watcher.unref();
  return () => {
    if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGKILL');
  };
}
