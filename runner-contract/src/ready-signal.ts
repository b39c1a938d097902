/**
 * How a supervisor started as a child process (local mode) tells its parent it is serving: one JSON line on
 * the file descriptor named by READY_FD, written once it listens and before its command starts. In a pod
 * the readiness probe (GET /healthz) plays this part.
 */
export interface ReadySignal {
  port: number;
}

export function encodeReadySignal(signal: ReadySignal): string {
  return `${JSON.stringify({ ready: true, port: signal.port })}\n`;
}

/** The signal in `line`, or undefined for anything else (a parent must not trust a child's bytes blindly). */
export function parseReadySignal(line: string): ReadySignal | undefined {
  try {
    const value = JSON.parse(line) as { ready?: unknown; port?: unknown };
    const port = value.port;
    if (value.ready === true && typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) return { port };
  } catch {
    // not a signal
  }
  return undefined;
}
