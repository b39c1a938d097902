import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { defaultKubernetesRunnerConfig } from '../../controller/src/runners/kubernetes/kubernetes-config.js';
import { copies, execForm, last, parseDockerfile, runs, workdir, type Stage } from './support/dockerfile.js';
import { isIgnored, parseDockerignore } from './support/dockerignore.js';
import { REPO_DIR } from './support/render.js';

/**
 * No Docker engine here: each Dockerfile is checked against the repository instead. Build stages copy the
 * whole context into /app (so /app/x is the repository's x, once `npm run build` has run, as before
 * `npm test`), and everything the final image needs must come from a path that exists.
 */

const read = (file: string) => readFileSync(path.join(REPO_DIR, file), 'utf8');
const values = parse(read('chart/values.yaml')) as { securityContext: { runAsUser: number } };
const rootPackage = JSON.parse(read('package.json')) as { workspaces: string[]; scripts: Record<string, string> };
const ignore = parseDockerignore(read('.dockerignore'));

const IMAGES = [
  { dockerfile: 'controller/Dockerfile', workspace: 'controller', port: 8080, user: values.securityContext.runAsUser, main: 'controller/dist/main.js' },
  { dockerfile: 'gateway/Dockerfile', workspace: 'gateway', port: 8081, user: values.securityContext.runAsUser, main: 'gateway/dist/main.js' },
  {
    dockerfile: 'supervisor/Dockerfile',
    workspace: 'supervisor',
    port: defaultKubernetesRunnerConfig.port,
    user: defaultKubernetesRunnerConfig.runAsUser,
    main: 'supervisor/bin/cliscale-supervisor.js',
  },
];

/** The repository path an absolute path of a build stage stands for (stages work in /app = the context). */
function repoPathOf(stages: Stage[], stageName: string, absolute: string): string {
  const stage = stages.find((s) => s.name === stageName);
  if (!stage) throw new Error(`no stage named ${stageName}`);
  expect(absolute.startsWith('/app/') || absolute === '/app').toBe(true);
  return path.posix.relative('/app', absolute) || '.';
}

/** Where a file of the final image comes from in the repository, through the final stage's COPYs. */
function sourceOf(stages: Stage[], imagePath: string): string | undefined {
  for (const copy of copies(stages.at(-1)!)) {
    const inside = path.posix.relative(copy.dest, imagePath);
    if (inside.startsWith('..') || copy.sources.length !== 1) continue;
    const from = copy.from ? repoPathOf(stages, copy.from, copy.sources[0]!) : copy.sources[0]!;
    return path.posix.join(from, inside);
  }
  return undefined;
}

describe.each(IMAGES)('$dockerfile', ({ dockerfile, workspace, port, user, main }) => {
  const { stages } = parseDockerfile(read(dockerfile));
  const final = stages.at(-1)!;

  it('is multi-stage on one Node 20 image (native modules are built for the Node that runs them)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const images = new Set(stages.map((s) => s.base).filter((b) => !stages.some((s) => s.name === b)));
    expect([...images]).toEqual([expect.stringMatching(/^node:20[.-]/)]);
  });

  it('copies only paths that exist in the repository and that .dockerignore lets through', () => {
    for (const stage of stages) {
      for (const copy of copies(stage)) {
        for (const source of copy.sources) {
          const repoPath = copy.from ? repoPathOf(stages, copy.from, source) : source;
          expect({ source, exists: existsSync(path.join(REPO_DIR, repoPath)) }).toEqual({ source, exists: true });
          if (!copy.from && repoPath !== '.') expect({ source, ignored: isIgnored(ignore, repoPath) }).toEqual({ source, ignored: false });
        }
      }
    }
  });

  it('starts the component with node from a file the image contains', () => {
    const command = [...(execForm(final, 'ENTRYPOINT') ?? []), ...(execForm(final, 'CMD') ?? [])];
    expect(command[0]).toBe('node');
    expect(sourceOf(stages, path.posix.resolve(workdir(final), command[1]!))).toBe(main);
    expect(existsSync(path.join(REPO_DIR, main))).toBe(true);
  });

  it('runs as a fixed non-root user, the one the chart or the runner Job sets', () => {
    const [uid, gid] = (last(final, 'USER') ?? 'root').split(':');
    expect(Number(uid)).toBe(user);
    expect(Number(gid)).toBe(user);
  });

  it('exposes the port the chart, the gateway or the runner Job use', () => {
    expect(last(final, 'EXPOSE')).toBe(String(port));
  });

  it('ships production dependencies only, installed for this workspace', () => {
    const install = stages.flatMap(runs).find((r) => r.includes('npm ci') && r.includes('--omit=dev'));
    expect(install).toContain(`--workspace=${workspace}`);
    expect(rootPackage.workspaces).toContain(workspace);
    const nodeModules = copies(final).find((c) => c.dest.endsWith('node_modules'))!;
    const deps = stages.find((s) => s.name === nodeModules.from)!;
    expect(runs(deps).some((r) => r.includes('--omit=dev'))).toBe(true);
  });
});

describe('what each image needs besides its entry point', () => {
  it('the controller image can run the migration hook: npm run migrate and the file it runs', () => {
    const { stages } = parseDockerfile(read('controller/Dockerfile'));
    const script = rootPackage.scripts.migrate!;
    const [, file] = /^node (\S+)$/.exec(script) ?? [];
    expect(file).toBe('database/dist/migrate.js');
    expect(sourceOf(stages, `/app/${file}`)).toBe(file);
    expect(sourceOf(stages, '/app/package.json')).toBe('package.json');
  });

  it('the gateway image carries the browser terminal it serves (gateway/dist/page)', () => {
    const { stages } = parseDockerfile(read('gateway/Dockerfile'));
    expect(sourceOf(stages, '/app/gateway/dist/page/index.html')).toBe('gateway/dist/page/index.html');
    expect(existsSync(path.join(REPO_DIR, 'gateway/dist/page/index.html'))).toBe(true);
  });

  it('the runner image has git, a compiled node-pty and the supervisor as its entrypoint', () => {
    const { stages } = parseDockerfile(read('supervisor/Dockerfile'));
    const final = stages.at(-1)!;
    expect(runs(final).join('\n')).toMatch(/apt-get install[^\n]*\bgit\b/);
    expect(runs(stages[0]!).join('\n')).toMatch(/apt-get install[^\n]*python3[^\n]*make[^\n]*g\+\+/);
    expect(stages.flatMap(runs).some((r) => r.includes('npm rebuild node-pty'))).toBe(true);
    const bin = (JSON.parse(read('supervisor/package.json')) as { bin: Record<string, string> }).bin['cliscale-supervisor'];
    expect(execForm(final, 'ENTRYPOINT')).toEqual(['node', `/opt/cliscale/supervisor/${bin!.replace(/^\.\//, '')}`]);
    // The bin imports ../dist/cli.js, which loads its worker and page from dist too.
    expect(sourceOf(stages, '/opt/cliscale/supervisor/dist/mirror-worker.js')).toBe('supervisor/dist/mirror-worker.js');
    expect(sourceOf(stages, '/opt/cliscale/supervisor/dist/page/index.html')).toBe('supervisor/dist/page/index.html');
  });
});

describe('.dockerignore', () => {
  it('keeps out what is rebuilt inside or useless (dependencies, builds, tests, git)', () => {
    for (const file of ['node_modules/ws/package.json', 'controller/dist/main.js', 'gateway/node_modules/x', 'controller/test/api.test.ts', '.git/HEAD', 'chart/values.yaml']) {
      expect({ file, ignored: isIgnored(ignore, file) }).toEqual({ file, ignored: true });
    }
  });

  it('lets through what npm ci and the builds read: the lockfile, every workspace manifest and its sources', () => {
    const needed = ['package.json', 'package-lock.json', 'bundle-node.mjs', ...rootPackage.workspaces.flatMap((w) => [`${w}/package.json`, `${w}/build.mjs`, `${w}/src`])];
    for (const file of needed.filter((f) => existsSync(path.join(REPO_DIR, f)))) {
      expect({ file, ignored: isIgnored(ignore, file) }).toEqual({ file, ignored: false });
    }
    expect(isIgnored(ignore, 'supervisor/bin/cliscale-supervisor.js')).toBe(false);
  });
});
