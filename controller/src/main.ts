import { configOrExit } from '@cliscale/service-kit';
import { loadConfig } from './config.js';
import { startController } from './controller.js';

/** `node controller/dist/main.js`: the controller on its own (the chart's Deployment runs this). */
async function main(): Promise<void> {
  const config = configOrExit('cliscale-controller', () => loadConfig(process.argv.slice(2)));
  const controller = await startController(config);
  if (controller.localApiKey) {
    // Local mode only, on the terminal of the person who started it; never in the JSON logs.
    process.stdout.write(`\nAPI key (kept in ${config.dataDir}/api-key): ${controller.localApiKey}\n\n`);
  }
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`cliscale-controller: ${signal}, shutting down\n`);
    controller.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`cliscale-controller: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));
}

main().catch((err) => {
  process.stderr.write(`cliscale-controller: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
