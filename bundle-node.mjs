// The one esbuild setup of every Node component (controller, gateway, local, migrations, supervisor): each
// component's build.mjs names its entry points and what else it needs. Runtime dependencies stay external
// and are loaded by Node from node_modules; the workspaces' own TypeScript (@cliscale/*) is bundled in.
import { build } from 'esbuild';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';

const dependenciesOf = async (dir) => Object.keys(JSON.parse(await readFile(`${dir}package.json`, 'utf8')).dependencies ?? {});

/**
 * Bundles `entryPoints` (name -> source, relative to the component) into `<component>/dist`.
 * `componentUrl` is the build script's import.meta.url; `alsoExternal` names the workspaces (as folders next
 * to the component) whose runtime dependencies the bundle loads too, because it bundles their code.
 */
export async function bundleNode(componentUrl, { entryPoints, alsoExternal = [] }) {
  const here = new URL('.', componentUrl).pathname;
  const folders = [here, ...alsoExternal.map((ws) => new URL(`../${ws}/`, componentUrl).pathname)];
  const external = [...new Set((await Promise.all(folders.map(dependenciesOf))).flat())].filter((d) => !d.startsWith('@cliscale/'));
  await build({
    entryPoints,
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
}

/**
 * Copies the browser terminal (web-terminal/dist, built just before by the root `npm run build`) into
 * `<component>/dist/page`. Building one component alone (npm run build -w gateway) still gets a complete
 * page: the web-terminal is built first when its dist is missing.
 */
export async function copyTerminalPage(componentUrl) {
  const webTerminalDist = new URL('./web-terminal/dist/', import.meta.url).pathname;
  if (!(await stat(`${webTerminalDist}index.html`).then(() => true, () => false))) await import('./web-terminal/build.mjs');
  const page = new URL('./dist/page', componentUrl).pathname;
  await mkdir(page, { recursive: true });
  await cp(webTerminalDist, page, { recursive: true });
}
