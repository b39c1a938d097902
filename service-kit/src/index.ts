export { bool, configOrExit, ConfigError, flagsAsEnv, int, list, logLevel, parseEnv, postgresUrl, trustProxy } from './config.js';
export { listen } from './listen.js';
export { loadStaticPage, type Asset, type StaticPage } from './static-page.js';
