import { pino } from 'pino';
import { configOrExit } from '@cliscale/service-kit';
import { banner } from './banner.js';
import { loadLocalConfig } from './config.js';
import { startLocalMode } from './local-mode.js';

/**
 * `npm start`: everything on one port with an embedded PostgreSQL and sessions as local processes.
 * Local defaults (each overridable by its variable): local code paths allowed, 60 sessions a minute.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const config = configOrExit('cliscale', () => loadLocalConfig(process.argv.slice(2)));
  const say = (line: string) => process.stdout.write(`cliscale: ${line}\n`);
  const logger = pino({ level: config.controller.logLevel, base: { component: 'local' } }, pino.destination(2));
  const local = await startLocalMode(config, { logger, onStep: say });
  process.stdout.write(banner(local.url, local.apiKey, Date.now() - started));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping sessions, terminals and PostgreSQL`);
    local.close().then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (err) => {
        process.stderr.write(`cliscale: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
}

main().catch((err) => {
  process.stderr.write(`cliscale: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
