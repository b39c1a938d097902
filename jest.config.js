/** Jest in native ESM mode (see shared/STACK.md): TypeScript through ts-jest, `.js` import suffixes mapped. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  roots: ['protocol', 'service-kit', 'runner-contract', 'terminal-screen', 'database', 'test-kit', 'web-terminal', 'supervisor', 'controller', 'gateway', 'local', 'chart'].map((dir) => `<rootDir>/${dir}`),
  testMatch: ['**/test/**/*.test.ts'],
  testTimeout: 60_000,
  // One real PostgreSQL for the run (local mode's embedded one, see local/test/support); each test file makes
  // its own database (test-kit's createTestDatabase).
  globalSetup: '<rootDir>/local/test/support/postgres-global-setup.js',
  globalTeardown: '<rootDir>/local/test/support/postgres-global-teardown.js',
  // Supervisors are real processes with real ports: keep the 2-core machine from oversubscribing.
  maxWorkers: 2,
};
