// Bundles the supervisor (CLI + terminal-model worker) and copies the browser terminal (web-terminal/dist,
// built just before by the root `npm run build`) into dist/page. Runs on `npm install` (prepare), so
// `npx cliscale-supervisor` works without a separate build step.
import { build } from 'esbuild';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('./package.json', import.meta.url), 'utf8'));
const common = { bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: here };

const webTerminalDist = new URL('../web-terminal/dist/', import.meta.url).pathname;
// Building the supervisor alone (npm run build -w supervisor) must still produce a complete page.
const built = await stat(`${webTerminalDist}index.html`).then(() => true, () => false);
if (!built) await import('../web-terminal/build.mjs');

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
  cp(webTerminalDist, `${here}dist/page`, { recursive: true }),
]);

