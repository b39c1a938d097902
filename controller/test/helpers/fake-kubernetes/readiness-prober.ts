import type { FakeContainer } from './types.js';

/**
 * A container's httpGet readinessProbe against the pod IP, with the probe's period, timeout and thresholds.
 * Reports each change of readiness.
 */
export class ReadinessProber {
  private timer?: NodeJS.Timeout;
  private ready = false;
  private successes = 0;
  private failures = 0;
  private stopped = false;

  constructor(
    container: FakeContainer,
    private readonly host: string,
    private readonly onChange: (ready: boolean) => void,
  ) {
    const probe = container.readinessProbe!;
    const port = probe.httpGet!.port;
    const portNumber = typeof port === 'number' ? port : (container.ports?.find((p) => p.name === port)?.containerPort ?? Number(port));
    const url = `http://${host}:${portNumber}${probe.httpGet!.path ?? '/'}`;
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    const tick = async () => {
      const ok = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then(
        (res) => res.status >= 200 && res.status < 400,
        () => false,
      );
      if (this.stopped) return;
      this.record(ok, probe.successThreshold ?? 1, probe.failureThreshold ?? 3);
      this.timer = setTimeout(() => void tick(), periodMs);
    };
    this.timer = setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private record(ok: boolean, successThreshold: number, failureThreshold: number): void {
    this.successes = ok ? this.successes + 1 : 0;
    this.failures = ok ? 0 : this.failures + 1;
    if (!this.ready && this.successes >= successThreshold) this.set(true);
    else if (this.ready && this.failures >= failureThreshold) this.set(false);
  }

  private set(ready: boolean): void {
    this.ready = ready;
    this.onChange(ready);
  }
}
