import { Refusal } from './refusals.js';

/** Open terminal connections per session and per client address, in this process. */
export class ConnectionLimits {
  private readonly perSession = new Map<string, number>();
  private readonly perIp = new Map<string, number>();

  constructor(private readonly limits: { perSession: number; perIp: number }) {}

  /** Counts one connection, or refuses it; the returned function releases it. */
  acquire(sessionId: string, ip: string): () => void {
    const s = this.perSession.get(sessionId) ?? 0;
    const i = this.perIp.get(ip) ?? 0;
    if (s >= this.limits.perSession) throw new Refusal(429, 'too-many-connections', `this session already has ${s} terminal connections`);
    if (i >= this.limits.perIp) throw new Refusal(429, 'too-many-connections', `too many terminal connections from this address (${i})`);
    this.perSession.set(sessionId, s + 1);
    this.perIp.set(ip, i + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.perSession, sessionId);
      decrement(this.perIp, ip);
    };
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
