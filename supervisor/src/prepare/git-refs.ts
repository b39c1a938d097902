import { PhaseError } from './phase-error.js';

export interface RemoteRefs {
  head?: string;
  /** Short names of branches and tags (`main`, `feature/x`, `v1.0`) → full ref name and commit. */
  byName: Map<string, { ref: string; sha: string }>;
}

const FULL_SHA = /^[0-9a-f]{40}$/i;

/** Parses `git ls-remote` output. Peeled tags (`^{}`) give the commit a tag points to. */
export function parseLsRemote(output: string): RemoteRefs {
  const refs: RemoteRefs = { byName: new Map() };
  for (const line of output.split('\n')) {
    const [sha, name] = line.trim().split('\t');
    if (!sha || !name) continue;
    if (name === 'HEAD') refs.head = sha;
    for (const prefix of ['refs/heads/', 'refs/tags/']) {
      if (!name.startsWith(prefix)) continue;
      const peeled = name.endsWith('^{}');
      const short = name.slice(prefix.length).replace(/\^\{\}$/, '');
      const existing = refs.byName.get(short);
      // Branches win over tags of the same name, as in `git checkout NAME`; a peeled tag replaces its tag object.
      if (!existing || (peeled && existing.ref === `${prefix}${short}`) || (prefix === 'refs/heads/' && existing.ref.startsWith('refs/tags/'))) {
        refs.byName.set(short, { ref: `${prefix}${short}`, sha });
      }
    }
  }
  return refs;
}

export interface ResolvedRef {
  /** What to fetch: a full ref name or a commit id. */
  fetch: string;
  /** Human name of what is fetched (branch, tag or commit). */
  name: string;
  /** Commit the remote says it is, when known before fetching. */
  sha?: string;
}

/** A ref given whole (`x.git#ref`): a branch, a tag, a full commit id or a full ref name. */
export function resolveRef(refs: RemoteRefs, ref: string | undefined): ResolvedRef {
  if (ref === undefined) {
    if (!refs.head) throw new PhaseError('fetching', 'the repository has no default branch (empty repository?)');
    return { fetch: 'HEAD', name: 'default branch', sha: refs.head };
  }
  const known = refs.byName.get(ref);
  if (known) return { fetch: known.ref, name: ref, sha: known.sha };
  if (ref.startsWith('refs/')) return { fetch: ref, name: ref };
  if (FULL_SHA.test(ref)) return { fetch: ref.toLowerCase(), name: ref.slice(0, 12), sha: ref.toLowerCase() };
  throw new PhaseError('fetching', `no branch or tag named "${ref}" in the repository (a commit must be given as its full 40-digit id)`);
}

/**
 * Splits `/tree/` segments into ref and folder: refs may contain slashes (`feature/x`), so the longest
 * prefix that names a branch or tag wins; a leading full commit id is a commit.
 */
export function splitTreeSegments(refs: RemoteRefs, segments: string[]): { ref: ResolvedRef; path: string } {
  for (let i = segments.length; i >= 1; i--) {
    const name = segments.slice(0, i).join('/');
    const known = refs.byName.get(name);
    if (known) return { ref: { fetch: known.ref, name, sha: known.sha }, path: segments.slice(i).join('/') };
  }
  const first = segments[0]!;
  if (FULL_SHA.test(first)) return { ref: resolveRef(refs, first), path: segments.slice(1).join('/') };
  throw new PhaseError('fetching', `no branch or tag in the repository matches the start of "${segments.join('/')}"`);
}
