// Bundles the browser terminal into static files served by the supervisor (and the gateway): no CDN,
// everything (xterm.js, its CSS, the protocol codec) is in dist/.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;

await mkdir(`${here}dist`, { recursive: true });
await Promise.all([
  build({
    absWorkingDir: here,
    entryPoints: { client: 'src/main.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  }),
  copyFile(`${here}src/index.html`, `${here}dist/index.html`),
]);
