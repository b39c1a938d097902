import type { Terminal } from '@xterm/xterm';
import type { ConnectionState } from './status-bar.js';

/**
 * `window.__cliscale`: what the page exposes for tests and for people debugging in devtools. Meant for
 * reading (the buffer, the state, counters); the page never reads anything back from it.
 */
export interface CliscaleDebugHook {
  term: Terminal;
  state(): ConnectionState;
  readOnly(): boolean;
  /** Sockets opened so far (1 after the first connect, +1 per reconnect). */
  opens(): number;
  bytesReceived(): number;
  flow(): { pendingBytes: number; maxPendingBytes: number; paused: boolean; pauses: number; resumes: number };
  /** Called with each output chunk once xterm has parsed it (for latency measurements). */
  outputListeners: Set<(chunk: Uint8Array) => void>;
  webSocketUrl: string;
}

declare global {
  interface Window {
    __cliscale?: CliscaleDebugHook;
  }
}
