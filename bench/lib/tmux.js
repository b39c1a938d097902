// The baseline: a private tmux server (own socket, no config file), one detached 80x24 session.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pty from 'node-pty';
import { isAlive, killGroup, now, registerKiller, sleep } from './common.js';

/** The baseline's binary: $TMUX_BIN if set, else /usr/bin/tmux, else whatever `tmux` is on PATH. */
export function tmuxVersion() {
  const bin = process.env.TMUX_BIN || (existsSync('/usr/bin/tmux') ? '/usr/bin/tmux' : 'tmux');
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
    t.socketPath = (await t.run(['display', '-p', '-t', 'bench', '#{socket_path}'])).trim();
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

  /**
   * A control-mode client (`tmux -C`) attached to a second, idle session ("probe"), through which
   * capture-pane commands are sent. Polling this way costs no process spawn per poll: spawning a tmux
   * client every 5 ms takes enough CPU on a 2-core machine to slow the tmux server itself down by 10-40%.
   * Being attached to another session, it receives no %output notifications for the bench pane.
   */
  async openControl() {
    await this.run(['new-session', '-d', '-s', 'probe', '-x', '80', '-y', '24', '--', 'sleep', '1000000']);
    this.probePanePid = Number((await this.run(['display', '-p', '-t', 'probe', '#{pane_pid}'])).trim());
    const ctl = spawn(this.bin, ['-L', this.socket, '-f', '/dev/null', '-C', 'attach', '-t', 'probe'], {
      env: this.env,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.ctl = ctl;
    this.ctlPending = [];
    let block; // lines of the current %begin ... %end block, when it answers one of our commands
    createInterface({ input: ctl.stdout }).on('line', (line) => {
      if (block === undefined) {
        // Flags 1: the block answers a command from this client (0: e.g. the attach itself).
        if (/^%begin \d+ \d+ 1$/.test(line)) block = [];
      } else if (/^%(end|error) \d+ \d+ 1$/.test(line)) {
        const waiter = this.ctlPending.shift();
        const ok = line.startsWith('%end');
        if (waiter) ok ? waiter.resolve(block.join('\n') + '\n') : waiter.reject(new Error(`tmux -C: ${block.join(' ')}`));
        block = undefined;
      } else {
        block.push(line);
      }
    });
    ctl.on('exit', () => {
      for (const w of this.ctlPending) w.reject(new Error('tmux control client exited'));
      this.ctlPending = [];
      this.ctl = undefined;
    });
    await this.control('display -p ready');
  }

  /** Runs one tmux command through the control client; resolves to its output. */
  control(command) {
    return new Promise((resolve, reject) => {
      if (!this.ctl) return reject(new Error('no tmux control client'));
      this.ctlPending.push({ resolve, reject });
      this.ctl.stdin.write(`${command}\n`);
    });
  }

  /** Polls `capture-pane -p` every `intervalMs` until `needle` is on screen; resolves to the time it was seen. */
  async waitFor(needle, { intervalMs = 5, timeoutMs = 60_000 } = {}) {
    const start = now();
    let polls = 0;
    for (;;) {
      const screen = this.ctl ? await this.control('capture-pane -p -t bench') : await this.capture();
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
    this.ctl?.stdin.end();
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
    if (this.ctl) this.ctl.kill('SIGKILL');
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
    if (isAlive(this.probePanePid)) killGroup(this.probePanePid, 'SIGKILL');
    if (isAlive(this.serverPid)) killGroup(this.serverPid, 'SIGKILL');
    // tmux 3.3a leaves its socket file behind after kill-server.
    if (this.socketPath) rmSync(this.socketPath, { force: true });
    this.unregister();
  }
}
