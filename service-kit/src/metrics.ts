import { collectDefaultMetrics, Registry } from 'prom-client';

/** A Prometheus registry of the service's own (not prom-client's global one), with Node's process metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
