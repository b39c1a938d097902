// Bundles the controller (`node controller/dist/main.js`). Runtime dependencies stay external and are
// loaded by Node; the workspaces' own TypeScript (protocol, migrations) is bundled in.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('./package.json', import.meta.url), 'utf8'));
const workspaces = Object.keys(pkg.dependencies).filter((d) => d.startsWith('@cliscale/'));
const migrations = JSON.parse(await readFile(new URL('../migrations/package.json', import.meta.url), 'utf8'));
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
  external: [...Object.keys(pkg.dependencies), ...Object.keys(migrations.dependencies)].filter((d) => !workspaces.includes(d)),
});
