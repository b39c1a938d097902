/** Jest in native ESM mode (see shared/STACK.md): TypeScript through ts-jest, `.js` import suffixes mapped. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  roots: ['<rootDir>/protocol', '<rootDir>/web-terminal', '<rootDir>/supervisor', '<rootDir>/migrations', '<rootDir>/controller', '<rootDir>/gateway', '<rootDir>/local', '<rootDir>/chart'],
  testMatch: ['**/test/**/*.test.ts'],
  testTimeout: 60_000,
  // One real PostgreSQL for the run (see migrations/test/support); each test file makes its own database.
  globalSetup: '<rootDir>/migrations/test/support/postgres-global-setup.js',
  globalTeardown: '<rootDir>/migrations/test/support/postgres-global-teardown.js',
  // Supervisors are real processes with real ports: keep the 2-core machine from oversubscribing.
  maxWorkers: 2,
};
