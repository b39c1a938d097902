import { ConfigError, configHelp, loadConfig } from './config.js';
import { startGateway } from './gateway.js';

/** `node gateway/dist/main.js`: the gateway on its own (the chart's Deployment runs this). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (err) {
    if ((err as { code?: string }).code === 'commander.helpDisplayed') {
      process.stdout.write(configHelp());
      process.exit(0);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`cliscale-gateway: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
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
