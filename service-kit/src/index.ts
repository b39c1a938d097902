export { basicToken, bearerToken } from './auth-headers.js';
export { Backoff, backoffDelay, type BackoffOptions } from './backoff.js';
export { bool, configOrExit, ConfigError, flagsAsEnv, int, list, logLevel, parseEnv, postgresUrl, trustProxy } from './config.js';
export { refuseUpgrade, sendJson } from './http-replies.js';
export { listen } from './listen.js';
export { processAlive } from './process-alive.js';
export { HEALTHY, readiness, type Health, type Readiness } from './readiness.js';
export { loadStaticPage, type Asset, type StaticPage } from './static-page.js';
export { escapeControlCharacters, withoutControlCharacters } from './text.js';
