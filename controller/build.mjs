// Bundles the controller (`node controller/dist/main.js`); it bundles the migrations' code, so their runtime
// dependencies stay external too.
import { bundleNode } from '../bundle-node.mjs';

await bundleNode(import.meta.url, { entryPoints: { main: 'src/main.ts' }, alsoExternal: ['migrations'] });
