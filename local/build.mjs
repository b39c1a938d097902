// Bundles local mode (`npm start` runs local/dist/main.js). The controller's and gateway's runtime
// dependencies stay external (installed in node_modules); the workspaces' TypeScript is bundled in.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;
const deps = async (ws) => Object.keys(JSON.parse(await readFile(new URL(`../${ws}/package.json`, import.meta.url), 'utf8')).dependencies ?? {});
const external = [...new Set([...(await deps('controller')), ...(await deps('gateway')), ...(await deps('migrations'))])].filter((d) => !d.startsWith('@cliscale/'));
await build({
  entryPoints: { main: 'src/main.ts' },
  outdir: 'dist',
  absWorkingDir: here,
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
});
