export { loadConfig, ConfigError, type ControllerConfig } from './config.js';
export { startController, type Controller, type ControllerOverrides } from './controller.js';
export type { RunnerBackend, RunnerEvent, RunnerSpec } from './runners/runner-backend.js';
