import { pino } from 'pino';
import { loadConfig } from '@cliscale/controller';
import { configOrExit } from '@cliscale/service-kit';
import { banner } from './banner.js';
import { startLocalMode } from './local-mode.js';

/**
 * `npm start`: everything on one port with an embedded PostgreSQL and sessions as local processes.
 * Local defaults (each overridable by its variable): local code paths allowed, 60 sessions a minute.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const env = { ALLOW_LOCAL_CODE: 'true', SESSION_RATE_LIMIT: '60', LOG_LEVEL: 'warn', ...process.env, RUNNER_BACKEND: 'local' };
  const config = configOrExit('cliscale', () => loadConfig(process.argv.slice(2), env));
  const say = (line: string) => process.stdout.write(`cliscale: ${line}\n`);
  const logger = pino({ level: config.logLevel, base: { component: 'local' } }, pino.destination(2));
  const local = await startLocalMode(config, { env, logger, onStep: say });
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
