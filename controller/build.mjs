// Bundles the controller (`node controller/dist/main.js`).
import { bundleNode } from '../bundle-node.mjs';

await bundleNode(import.meta.url, { entryPoints: { main: 'src/main.ts' } });
