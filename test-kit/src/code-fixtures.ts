import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A folder of code for local-mode sessions (code_url = its absolute path, with ALLOW_LOCAL_CODE). */
export async function codeFolder(files: Record<string, string> = { 'README.md': 'test job\n' }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cliscale-test-code-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}
