import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig as loadControllerConfig, type ControllerConfig } from '@cliscale/controller';
import { loadConfig as loadGatewayConfig, type GatewayConfig } from '@cliscale/gateway';

/**
 * Local mode's configuration: the controller's and the gateway's own, read from the same environment and
 * flags, with local defaults (each overridable by its variable) and what local mode decides itself.
 */
export interface LocalConfig {
  controller: ControllerConfig;
  /** Its JWKS URL is set once the port is known (the controller's keys are served on the same port). */
  gateway: GatewayConfig;
}

/** Local code paths allowed, a session a second for people trying things, quiet logs. */
const LOCAL_DEFAULTS = { ALLOW_LOCAL_CODE: 'true', SESSION_RATE_LIMIT: '60', LOG_LEVEL: 'warn' };

const packageFolder = (name: string) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

/** The installed supervisor's command: what the local runner backend starts for each session. */
export const supervisorBin = () => join(packageFolder('@cliscale/supervisor'), 'bin', 'cliscale-supervisor.js');
/** The installed browser terminal's built files, which the gateway serves. */
export const webTerminalDist = () => pathToFileURL(join(packageFolder('@cliscale/web-terminal'), 'dist') + '/');

/** Throws ConfigError (naming the variable) or commander's help signal, like the components' own loaders. */
export function loadLocalConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const merged = { ...LOCAL_DEFAULTS, SUPERVISOR_BIN: supervisorBin(), ...env, RUNNER_BACKEND: 'local' };
  const controller = loadControllerConfig(argv, merged);
  const gateway = loadGatewayConfig([], {
    ...merged,
    TOKEN_ISSUER: controller.token.issuer,
    TOKEN_AUDIENCE: controller.token.audience,
    LOG_LEVEL: controller.logLevel,
    // One process, one port, one pool: the controller's.
    DATABASE_URL: undefined,
    PORT: undefined,
    HOST: undefined,
  });
  return { controller, gateway };
}
