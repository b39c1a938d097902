export { startLocalMode, type LocalMode } from './local-mode.js';
export { banner, sampleCliPath } from './banner.js';
export { loadLocalConfig, supervisorBin, type LocalConfig } from './config.js';
