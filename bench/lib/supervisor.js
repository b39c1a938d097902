// Starting cliscale's supervisor and talking to it as a ttyd client would (WebSocket, subprotocol `tty`).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { StreamMatcher, isAlive, killGroup, now, registerKiller, sleep } from './common.js';

const SUPERVISOR_BIN = new URL('../../supervisor/bin/cliscale-supervisor.js', import.meta.url).pathname;
const HOST = '127.0.0.1';

/** GET on the supervisor; resolves to { status, body, ms }. */
export function httpGet(port, path, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const req = request({ host: HOST, port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString('utf8'), ms: now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export class Supervisor {
  /**
   * @param {object} o
   * @param {string[]} o.command argv of the command to run in the pty
   * @param {NodeJS.ProcessEnv} o.env environment (the command inherits it)
   * @param {number} [o.scrollback]
   */
  static async start({ command, env, scrollback = 100_000 }) {
    const args = [SUPERVISOR_BIN, '--port', '0', '--host', HOST, '-W', '--scrollback', String(scrollback), '--', ...command];
    // Own process group: a Ctrl+C at the bench's terminal reaches the bench only, which then kills everything.
    const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const sup = new Supervisor(proc);
    await sup.ready;
    return sup;
  }

  constructor(proc) {
    this.proc = proc;
    this.pid = proc.pid;
    this.port = undefined;
    this.commandPid = undefined;
    /** Supervisor log lines at warn level or above, and notable info lines (resyncs). */
    this.notable = [];
    this.logTail = [];
    this.exited = false;
    this.exitInfo = undefined;
    this.unregister = registerKiller(() => this.killNow());
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`supervisor did not report "listening" within 10 s:\n${this.logTail.join('\n')}`)), 10_000);
      createInterface({ input: proc.stderr }).on('line', (line) => {
        this.onLogLine(line);
        if (this.port === undefined && line.includes('"msg":"listening"')) {
          try {
            this.port = JSON.parse(line).port;
            clearTimeout(timer);
            resolve();
          } catch {
            // not JSON after all
          }
        }
      });
      proc.on('exit', (code, signal) => {
        this.exited = true;
        this.exitInfo = { code, signal };
        clearTimeout(timer);
        reject(new Error(`supervisor exited early (code ${code}, signal ${signal}):\n${this.logTail.join('\n')}`));
      });
    });
    this.ready.catch(() => {});
  }

  onLogLine(line) {
    this.logTail.push(line);
    if (this.logTail.length > 40) this.logTail.shift();
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      this.notable.push(line);
      return;
    }
    if (entry.commandPid) this.commandPid = entry.commandPid;
    if (entry.level >= 40 || /fell behind|replay failed|terminal model/.test(entry.msg ?? '')) this.notable.push(line);
  }

  get(path, timeoutMs) {
    return httpGet(this.port, path, timeoutMs);
  }

  async status() {
    const r = await this.get('/status');
    return JSON.parse(r.body);
  }

  /** GET /screen?lines=N: answered by the terminal model after it has parsed every byte received so far. */
  async screen(lines = 0) {
    const r = await this.get(`/screen?lines=${lines}`, 60_000);
    if (r.status !== 200) throw new Error(`/screen answered ${r.status}: ${r.body}`);
    return { dump: JSON.parse(r.body), ms: r.ms };
  }

  connect(opts) {
    return WsClient.connect(this.port, opts);
  }

  /** Ends the command (SIGKILL to its process group), then waits for the supervisor to exit on its own. */
  async stop() {
    if (this.commandPid) killGroup(this.commandPid, 'SIGKILL');
    const deadline = now() + 5000;
    while (!this.exited && now() < deadline) await sleep(20);
    const clean = this.exited;
    this.killNow();
    return clean ? this.exitInfo : { code: null, signal: 'SIGKILL (did not exit within 5 s after its command was killed)' };
  }

  killNow() {
    if (this.commandPid && isAlive(this.commandPid)) killGroup(this.commandPid, 'SIGKILL');
    if (!this.exited) killGroup(this.pid, 'SIGKILL');
    this.unregister();
  }
}

/** A ttyd-protocol client with hooks for timing: every OUTPUT payload goes to the current listeners. */
export class WsClient {
  /** `url` and `authToken` reach a supervisor with a credential, or the gateway; default: the supervisor's /ws. */
  static connect(port, { protocol, columns = 80, rows = 24, onOpen, url, authToken = '' } = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url ?? `ws://${HOST}:${port}/ws`, ['tty'], { perMessageDeflate: false });
      const client = new WsClient(ws, protocol);
      ws.once('open', () => {
        ws.send(protocol.encodeInit({ AuthToken: authToken, columns, rows, capabilities: ['exit-status'] }));
        onOpen?.(client);
        resolve(client);
      });
      ws.once('error', reject);
    });
  }

  constructor(ws, protocol) {
    this.ws = ws;
    this.protocol = protocol;
    this.listeners = new Set();
    this.outputBytes = 0;
    this.closed = false;
    this.closeInfo = undefined;
    this.unregister = registerKiller(() => this.ws.terminate());
    ws.on('message', (data) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const msg = protocol.decodeServerMessage(bytes);
      if (msg.type !== 'output') return;
      this.outputBytes += msg.data.byteLength;
      const t = now();
      for (const l of [...this.listeners]) l(msg.data, t);
    });
    ws.on('close', (code, reason) => {
      this.closed = true;
      this.closeInfo = { code, reason: reason.toString() };
      this.unregister();
    });
    ws.on('error', () => {});
  }

  input(text) {
    this.ws.send(this.protocol.encodeInput(text));
  }

  /**
   * Resolves when `needle` appears in the output from now on: { t, bytes, resets } where t is the arrival
   * time (ms, monotonic), bytes the output bytes received meanwhile and resets the count of ESC c seen
   * (a replay; more than expected means the client was resynchronised).
   */
  waitFor(needle, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const matcher = new StreamMatcher(needle);
      const resetMatcher = { count: 0, tail: '' };
      let bytes = 0;
      let firstAt;
      const listener = (chunk, t) => {
        firstAt ??= t;
        bytes += chunk.byteLength;
        const text = resetMatcher.tail + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
        resetMatcher.count += text.split('\x1bc').length - 1;
        resetMatcher.tail = text.endsWith('\x1b') ? '\x1b' : '';
        if (matcher.feed(chunk)) {
          cleanup();
          resolve({ t, firstAt, bytes, resets: resetMatcher.count });
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${JSON.stringify(needle)} (${bytes} bytes received)`));
      }, timeoutMs);
      const onClose = () => {
        cleanup();
        reject(new Error(`connection closed (${this.closeInfo?.code}) while waiting for ${JSON.stringify(needle)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        this.ws.off('close', onClose);
      };
      this.listeners.add(listener);
      this.ws.on('close', onClose);
    });
  }

  /** Resolves with the arrival time of the next output message. */
  nextOutput(timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const listener = (chunk, t) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve({ t, chunk });
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error('no output within timeout'));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** Resolves once no output has arrived for `quietMs`. */
  async quiet(quietMs = 200, maxMs = 10_000) {
    let last = now();
    const listener = () => (last = now());
    this.listeners.add(listener);
    const start = now();
    while (now() - last < quietMs && now() - start < maxMs) await sleep(10);
    this.listeners.delete(listener);
  }

  close() {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 1000).unref();
    });
  }
}
