// Bundles local mode (`npm start` runs local/dist/main.js): the controller and the gateway in one process, so
// their runtime dependencies (and the migrations') stay external, installed in node_modules.
import { bundleNode } from '../bundle-node.mjs';

await bundleNode(import.meta.url, { entryPoints: { main: 'src/main.ts' }, alsoExternal: ['controller', 'gateway', 'migrations'] });
