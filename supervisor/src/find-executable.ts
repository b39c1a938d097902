import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Like the shell's lookup, so a missing program is reported clearly instead of as execvp's errno text. */
export function findExecutable(file: string, cwd: string): string | undefined {
  const candidates = file.includes('/')
    ? [isAbsolute(file) ? file : join(cwd, file)]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, file));
  return candidates.find((c) => {
    try {
      accessSync(c, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
