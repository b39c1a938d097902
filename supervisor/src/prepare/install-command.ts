import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The install command when none was given: `npm ci` when a lockfile pins the dependencies (reproducible,
 * fails on a stale lock), `npm install` when there is only a package.json, nothing otherwise.
 */
export function defaultInstallCommand(codeDir: string): string | undefined {
  const has = (name: string) => existsSync(join(codeDir, name));
  if (has('package-lock.json') || has('npm-shrinkwrap.json')) return 'npm ci';
  if (has('package.json')) return 'npm install';
  return undefined;
}
