export { loadConfig, ConfigError, type GatewayConfig } from './config.js';
export { startGateway, type Gateway, type GatewayOverrides } from './gateway.js';
