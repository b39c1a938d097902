// The one esbuild setup of every Node component (controller, gateway, local, database, supervisor): each
// component's build.mjs names its entry points. The workspaces' own TypeScript (@cliscale/*) is bundled in;
// every runtime dependency (the component's, and those of the @cliscale/* workspaces it bundles, followed
// through their package.json) stays external and is loaded by Node from node_modules.
import { build } from 'esbuild';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';

const root = new URL('./', import.meta.url);
const manifest = async (folder) => JSON.parse(await readFile(new URL('package.json', folder), 'utf8'));
const workspaceFolder = (name) => new URL(`${name.replace('@cliscale/', '')}/`, root);
const isWorkspace = (name) => name.startsWith('@cliscale/');

/** The runtime dependencies of the workspace in `folder`, and of the @cliscale/* workspaces it depends on, transitively. */
async function externalsOf(folder, seen = new Set()) {
  const found = new Set();
  for (const dep of Object.keys((await manifest(folder)).dependencies ?? {})) {
    if (!isWorkspace(dep)) found.add(dep);
    else if (!seen.has(dep)) {
      seen.add(dep);
      for (const d of await externalsOf(workspaceFolder(dep), seen)) found.add(d);
    }
  }
  return found;
}

/** Bundles `entryPoints` (name -> source, relative to the component) into `<component>/dist`. */
export async function bundleNode(componentUrl, { entryPoints }) {
  const here = new URL('.', componentUrl);
  await build({
    entryPoints,
    outdir: 'dist',
    absWorkingDir: here.pathname,
    bundle: true,
    sourcemap: true,
    logLevel: 'warning',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...(await externalsOf(here))],
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
