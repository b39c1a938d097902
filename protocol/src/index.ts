export * from './commands.js';
export * from './bytes.js';
export * from './json-c.js';
export * from './client-messages.js';
export * from './server-messages.js';
