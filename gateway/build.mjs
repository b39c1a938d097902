// Bundles the gateway (`node gateway/dist/main.js`) and copies the browser terminal next to it (dist/page).
import { bundleNode, copyTerminalPage } from '../bundle-node.mjs';

await Promise.all([bundleNode(import.meta.url, { entryPoints: { main: 'src/main.ts' } }), copyTerminalPage(import.meta.url)]);
