import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@cliscale/service-kit/metrics';
import { SESSION_STATUSES } from '@cliscale/database';

export interface ControllerMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  sessionsCreated: Counter;
  runnerStartSeconds: Histogram;
}

/**
 * The controller's Prometheus metrics, on a registry of its own (two controllers in one process, as in
 * the tests, must not share counters). Sessions by status are read from the database at scrape time, so
 * every replica reports the same, true numbers.
 */
export function createMetrics(db: Knex): ControllerMetrics {
  const registry = createMetricsRegistry();
  new Gauge({
    name: 'cliscale_sessions',
    help: 'Sessions by status (from the database)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await db('sessions').select('status').count<{ status: string; n: string }[]>({ n: '*' }).groupBy('status');
      for (const status of SESSION_STATUSES) this.set({ status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'cliscale_http_request_duration_seconds',
      help: 'API request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    }),
    sessionsCreated: new Counter({ name: 'cliscale_sessions_created_total', help: 'Sessions created', registers: [registry] }),
    runnerStartSeconds: new Histogram({
      name: 'cliscale_runner_start_seconds',
      help: 'From session creation to a reachable runner',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
  };
}
