// Bundles the gateway (`node gateway/dist/main.js`) and copies the browser terminal next to it (dist/page).
// Runtime dependencies stay external; the workspaces' TypeScript (protocol, migrations, web-terminal's
// static-page) is bundled in.
import { build } from 'esbuild';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('./package.json', import.meta.url), 'utf8'));
const migrations = JSON.parse(await readFile(new URL('../migrations/package.json', import.meta.url), 'utf8'));
const webTerminalDist = new URL('../web-terminal/dist/', import.meta.url).pathname;
if (!(await stat(`${webTerminalDist}index.html`).then(() => true, () => false))) await import('../web-terminal/build.mjs');
await mkdir(`${here}dist/page`, { recursive: true });
await Promise.all([
  build({
    entryPoints: { main: 'src/main.ts' },
    outdir: 'dist',
    absWorkingDir: here,
    bundle: true,
    sourcemap: true,
    logLevel: 'warning',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...Object.keys(pkg.dependencies), ...Object.keys(migrations.dependencies)].filter((d) => !d.startsWith('@cliscale/')),
  }),
  cp(webTerminalDist, `${here}dist/page`, { recursive: true }),
]);
