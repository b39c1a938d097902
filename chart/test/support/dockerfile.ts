import path from 'node:path';

/** A Dockerfile read just far enough to check it against the repository (no Docker engine here). */
export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name?: string;
  /** FROM's image, ARG defaults substituted. */
  base: string;
  instructions: Instruction[];
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

export function parseDockerfile(text: string): { stages: Stage[]; args: Record<string, string> } {
  // Continuation lines joined, comments and blank lines dropped.
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest };
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=');
      args[name!] = value;
    } else if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      const base = image.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => args[v] ?? '');
      stages.push({ base, ...(as?.toUpperCase() === 'AS' && { name }), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return { stages, args };
}

/** COPY / ADD of a stage, destinations made absolute with the WORKDIR in force at each one. */
export function copies(stage: Stage): Copy[] {
  let workdir = '/';
  const result: Copy[] = [];
  for (const i of stage.instructions) {
    if (i.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, i.args);
    if (i.keyword !== 'COPY' && i.keyword !== 'ADD') continue;
    const words = i.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    result.push({ ...(from && { from }), sources: paths.slice(0, -1), dest: path.posix.resolve(workdir, paths.at(-1)!) });
  }
  return result;
}

/** The WORKDIR a stage ends with (where CMD and ENTRYPOINT run). */
export function workdir(stage: Stage): string {
  return stage.instructions.filter((i) => i.keyword === 'WORKDIR').reduce((dir, i) => path.posix.resolve(dir, i.args), '/');
}

/** The JSON (exec) form of CMD / ENTRYPOINT; the shell form is refused: signals would go to a shell. */
export function execForm(stage: Stage, keyword: 'CMD' | 'ENTRYPOINT'): string[] | undefined {
  const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (!found) return undefined;
  const parsed = JSON.parse(found.args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw new Error(`${keyword} is not in exec form: ${found.args}`);
  return parsed;
}

/** The last value of a keyword in a stage (USER, WORKDIR…), or undefined. */
export function last(stage: Stage, keyword: string): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
}

/** RUN commands of a stage, one string each. */
export function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/\s+/g, ' '));
}
