import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@cliscale/service-kit/metrics';

export interface GatewayMetrics {
  registry: Registry;
  connectionsOpen: Gauge;
  bytes: Counter<'direction'>;
  refusals: Counter<'reason'>;
  upstreamConnectSeconds: Histogram;
  changesListening: Gauge;
}

export function createMetrics(): GatewayMetrics {
  const registry = createMetricsRegistry();
  return {
    registry,
    connectionsOpen: new Gauge({ name: 'cliscale_gateway_connections_open', help: 'Terminal connections open', registers: [registry] }),
    bytes: new Counter({
      name: 'cliscale_gateway_bytes_total',
      help: 'Bytes relayed (in: client to runner, out: runner to client), counted when a connection closes',
      labelNames: ['direction'],
      registers: [registry],
    }),
    refusals: new Counter({ name: 'cliscale_gateway_refusals_total', help: 'Requests refused, by reason', labelNames: ['reason'], registers: [registry] }),
    upstreamConnectSeconds: new Histogram({
      name: 'cliscale_gateway_upstream_connect_seconds',
      help: "Time to open the WebSocket to a session's runner",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    changesListening: new Gauge({
      name: 'cliscale_gateway_session_changes_listening',
      help: "1 while the LISTEN connection for the controller's session changes is up (0: terminals waiting for a runner poll)",
      registers: [registry],
    }),
  };
}
