/**
 * Whether a path of the build context is left out by .dockerignore patterns (Docker's rules, the subset used
 * here: `*`, `?`, `**`, `!` exceptions, a pattern excluding a folder excludes what is inside it).
 */
export function isIgnored(patterns: string[], file: string): boolean {
  const parts = file.split('/');
  const candidates = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      '^' +
        pattern
          .split('/')
          .map((segment) => (segment === '**' ? '.*' : segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
          .join('/')
          .replace(/\.\*\//g, '(?:.*/)?') +
        '$',
    );
    if (candidates.some((c) => regex.test(c))) ignored = !negate;
  }
  return ignored;
}

export function parseDockerignore(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}
