// The baseline: a private tmux server (own socket, no config file), one detached 80x24 session.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pty from 'node-pty';
import { isAlive, killGroup, now, registerKiller, sleep } from './common.js';

export const TMUX = process.env.TMUX_BIN || '/usr/bin/tmux';

export function tmuxVersion() {
  const bin = existsSync(TMUX) ? TMUX : 'tmux';
  try {
    return { bin, version: execFileSync(bin, ['-V'], { encoding: 'utf8' }).trim() };
  } catch {
    return undefined;
  }
}

export class Tmux {
  /**
   * @param {object} o
   * @param {string} o.bin tmux binary
   * @param {string} o.socket name for `-L`
   * @param {string[]} o.command argv of the pane's command
   * @param {NodeJS.ProcessEnv} o.env
   */
  static async start({ bin, socket, command, env, historyLimit = 100_000 }) {
    const t = new Tmux(bin, socket, env);
    // history-limit applies to panes created after it is set, hence start-server first, in one invocation.
    await t.run([
      'start-server', ';',
      'set', '-g', 'history-limit', String(historyLimit), ';',
      'set', '-g', 'status', 'off', ';',
      'new-session', '-d', '-s', 'bench', '-x', '80', '-y', '24', '--', ...command,
    ]);
    t.serverPid = Number((await t.run(['display', '-p', '-t', 'bench', '#{pid}'])).trim());
    t.panePid = Number((await t.run(['display', '-p', '-t', 'bench', '#{pane_pid}'])).trim());
    const limit = Number((await t.run(['display', '-p', '-t', 'bench', '#{history_limit}'])).trim());
    if (limit !== historyLimit) throw new Error(`tmux history-limit is ${limit}, expected ${historyLimit}`);
    return t;
  }

  constructor(bin, socket, env) {
    this.bin = bin;
    this.socket = socket;
    this.env = { ...env };
    delete this.env.TMUX; // the bench may itself run inside tmux
    this.serverPid = undefined;
    this.panePid = undefined;
    this.clients = new Set();
    this.unregister = registerKiller(() => this.killNow());
  }

  run(args, { maxBuffer = 256 << 20 } = {}) {
    return new Promise((resolve, reject) => {
      execFile(this.bin, ['-L', this.socket, '-f', '/dev/null', ...args], { env: this.env, maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`tmux ${args.join(' ')}: ${stderr || err.message}`));
        else resolve(stdout);
      });
    });
  }

  /** Types `text` and Enter into the pane. */
  sendLine(text) {
    return this.run(['send-keys', '-t', 'bench', '-l', '--', text, ';', 'send-keys', '-t', 'bench', 'Enter']);
  }

  capture(extra = []) {
    return this.run(['capture-pane', '-p', '-t', 'bench', ...extra]);
  }

  /** Polls `capture-pane -p` every `intervalMs` until `needle` is on screen; resolves to the time it was seen. */
  async waitFor(needle, { intervalMs = 5, timeoutMs = 60_000 } = {}) {
    const start = now();
    let polls = 0;
    for (;;) {
      const screen = await this.capture();
      polls++;
      const t = now();
      if (screen.includes(needle)) return { t, polls };
      if (t - start > timeoutMs) throw new Error(`tmux: timed out waiting for ${JSON.stringify(needle)}`);
      await sleep(intervalMs);
    }
  }

  /** A real tmux client attached in a pty, as a ttyd (or a person at a terminal) would run it. */
  attachClient({ columns = 80, rows = 24 } = {}) {
    const term = pty.spawn(this.bin, ['-L', this.socket, 'attach', '-t', 'bench'], {
      name: 'xterm-256color',
      cols: columns,
      rows,
      env: { ...this.env, TERM: 'xterm-256color' },
    });
    this.clients.add(term);
    return term;
  }

  async kill() {
    for (const c of this.clients) {
      try {
        c.kill();
      } catch {
        // gone
      }
    }
    this.clients.clear();
    try {
      await this.run(['kill-server']);
    } catch {
      // already gone
    }
    const deadline = now() + 3000;
    while ((isAlive(this.serverPid) || isAlive(this.panePid)) && now() < deadline) await sleep(20);
    this.killNow();
  }

  killNow() {
    for (const c of this.clients) {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    this.clients.clear();
    if (isAlive(this.serverPid)) {
      try {
        execFileSync(this.bin, ['-L', this.socket, 'kill-server'], { env: this.env, stdio: 'ignore', timeout: 2000 });
      } catch {
        // fall through to SIGKILL
      }
    }
    if (isAlive(this.panePid)) killGroup(this.panePid, 'SIGKILL');
    if (isAlive(this.serverPid)) killGroup(this.serverPid, 'SIGKILL');
    this.unregister();
  }
}
