// Bundles the supervisor (CLI + terminal-model worker) and its browser page. Runs on `npm install` (prepare),
// so `npx cliscale-supervisor` works without a separate build step.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('./package.json', import.meta.url), 'utf8'));
const common = { bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: here };

await mkdir(`${here}dist/page`, { recursive: true });
await Promise.all([
  build({
    ...common,
    entryPoints: { cli: 'src/cli.ts', 'mirror-worker': 'src/mirror-worker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Runtime dependencies (native node-pty, CommonJS xterm) are installed alongside and loaded by Node;
    // the workspace's own protocol codec is TypeScript source and is bundled in.
    external: Object.keys(pkg.dependencies),
  }),
  build({
    ...common,
    entryPoints: { client: 'src/page/client.ts' },
    outdir: 'dist/page',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
  }),
  copyFile(`${here}src/page/index.html`, `${here}dist/page/index.html`),
]);

