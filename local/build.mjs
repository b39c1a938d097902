// Bundles local mode (`npm start` runs local/dist/main.js): the controller and the gateway in one process.
// embedded-postgres.js: the test suite's global setup (plain JS, run before any TypeScript) starts one.
import { bundleNode } from '../bundle-node.mjs';

await bundleNode(import.meta.url, { entryPoints: { main: 'src/main.ts', 'embedded-postgres': 'src/embedded-postgres.ts' } });
