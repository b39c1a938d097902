// Bundles the `npm run migrate` command (the chart's pre-install/pre-upgrade hook runs it). Runtime
// dependencies (knex, pg) stay external and are loaded by Node.
import { bundleNode } from '../bundle-node.mjs';

await bundleNode(import.meta.url, { entryPoints: { migrate: 'src/migrate-cli.ts' } });
