import { CloseCode, WS_SUBPROTOCOL, decodeServerMessage, type ExitStatus, type ServerMessage } from '@cliscale/protocol';
import { backoffDelay } from './backoff.js';
import { fetchToken } from './endpoints.js';
import type { ConnectionState } from './status-bar.js';

/** A WebSocket that neither opens nor fails within this time (a black-holed proxy) is given up and retried. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectionOptions {
  webSocketUrl: string;
  tokenUrl: string;
  /** The init message for a fresh socket, built when it opens (so it carries the current size). */
  initMessage(token: string): Uint8Array<ArrayBuffer>;
  /** A new socket is open and its init was sent; nothing of it has been received yet. */
  onOpen(): void;
  onMessage(message: ServerMessage, wireBytes: number): void;
  onState(state: ConnectionState): void;
}

/**
 * The page's link to the server: connects, and after any drop that is not a normal end (close 1000)
 * reconnects by itself with exponential backoff and jitter. `retryNow` skips the wait (tab visible again,
 * network back). Each new socket gets a fresh token from `/token`, as in ttyd.
 */
export class ReconnectingConnection {
  private socket: WebSocket | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private ended = false;
  private exitStatus: ExitStatus | undefined;
  /** Sockets that opened, the first one included. */
  opens = 0;

  constructor(private readonly options: ConnectionOptions) {}

  start(): void {
    this.options.onState({ kind: 'connecting' });
    void this.connect();
  }

  /** Sends on the open socket; false (and nothing sent) while connecting or reconnecting. */
  send(message: Uint8Array<ArrayBuffer>): boolean {
    const ws = this.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(message);
    return true;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Cuts a pending backoff short. Does nothing while a socket is open or opening, or after the end. */
  retryNow(): void {
    if (this.ended || this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.connect();
  }

  private async connect(): Promise<void> {
    const token = await fetchToken(this.options.tokenUrl);
    if (this.ended) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.webSocketUrl, [WS_SUBPROTOCOL]);
    } catch {
      this.scheduleRetry('invalid address');
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    let opened = false;
    let received = false;
    const connectTimer = setTimeout(() => {
      if (ws.readyState === WebSocket.CONNECTING) ws.close();
    }, CONNECT_TIMEOUT_MS);

    ws.onopen = () => {
      clearTimeout(connectTimer);
      opened = true;
      this.opens++;
      ws.send(this.options.initMessage(token));
      this.options.onOpen();
      this.options.onState({ kind: 'live' });
    };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
      if (this.socket !== ws) return;
      if (!received) {
        // The server took our init and is serving: the next drop starts the backoff from the beginning.
        received = true;
        this.attempt = 0;
      }
      const bytes = new Uint8Array(ev.data);
      const message = decodeServerMessage(bytes);
      if (message.type === 'exit-status') this.exitStatus = message.status;
      this.options.onMessage(message, bytes.byteLength);
    };
    ws.onclose = (ev) => {
      clearTimeout(connectTimer);
      if (this.socket !== ws) return;
      this.socket = undefined;
      if (opened && ev.code === CloseCode.NORMAL) {
        // The job is over (its exit status, if any, came just before): nothing to reconnect to.
        this.ended = true;
        this.options.onState({ kind: 'ended', exit: this.exitStatus });
        return;
      }
      this.scheduleRetry(opened ? `connection lost, code ${ev.code}` : 'server unreachable');
    };
  }

  private scheduleRetry(reason: string): void {
    const delayMs = backoffDelay(this.attempt);
    this.attempt++;
    this.options.onState({ kind: 'reconnecting', attempt: this.attempt, delayMs, reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delayMs);
  }
}
