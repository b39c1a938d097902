// Bundles the supervisor (CLI + terminal-model worker) and copies the browser terminal into dist/page. Runs
// on `npm install` (prepare), so `npx cliscale-supervisor` works without a separate build step. Runtime
// dependencies (native node-pty, CommonJS xterm) are installed alongside and loaded by Node; the protocol
// codec is TypeScript source and is bundled in.
import { bundleNode, copyTerminalPage } from '../bundle-node.mjs';

await Promise.all([
  bundleNode(import.meta.url, { entryPoints: { cli: 'src/cli.ts', 'mirror-worker': 'src/mirror-worker.ts' } }),
  copyTerminalPage(import.meta.url),
]);
