// Bundles the gateway (`node gateway/dist/main.js`) and copies the browser terminal next to it (dist/page).
// It bundles the migrations' code (and web-terminal's static-page), so their runtime dependencies stay external.
import { bundleNode, copyTerminalPage } from '../bundle-node.mjs';

await Promise.all([
  bundleNode(import.meta.url, { entryPoints: { main: 'src/main.ts' }, alsoExternal: ['migrations'] }),
  copyTerminalPage(import.meta.url),
]);
