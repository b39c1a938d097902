import { configOrExit } from '@cliscale/service-kit';
import { loadConfig } from './config.js';
import { startGateway } from './gateway.js';

/** `node gateway/dist/main.js`: the gateway on its own (the chart's Deployment runs this). */
async function main(): Promise<void> {
  const config = configOrExit('cliscale-gateway', () => loadConfig(process.argv.slice(2)));
  const gateway = await startGateway(config);
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`cliscale-gateway: ${signal}, closing terminals (they reconnect) and shutting down\n`);
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));
}

main().catch((err) => {
  process.stderr.write(`cliscale-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
