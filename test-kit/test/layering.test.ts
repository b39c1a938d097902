import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

/**
 * The repository's layering rule (eslint.config.js), tried on imports a change could add: deployables never
 * import each other, libraries import no deployable, only local/ wires the controller and the gateway, and
 * nothing reaches into another workspace by relative path (except the chart's drift tests).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${file}` });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('the layering rule', () => {
  it.each([
    ['gateway/src/side-door.js', "import { loadConfig } from '@cliscale/controller';"],
    ['gateway/src/side-door.js', "export { listen } from '@cliscale/controller/listen';"],
    ['controller/src/side-door.js', "import '@cliscale/supervisor/package.json';"],
    ['supervisor/src/side-door.js', "const m = await import('@cliscale/gateway'); export default m;"],
    ['database/src/side-door.js', "import '@cliscale/controller';"],
    ['service-kit/src/side-door.js', "import '@cliscale/local';"],
    ['local/src/side-door.js', "import '@cliscale/supervisor';"],
    ['controller/src/side-door.js', "import '@cliscale/test-kit/eventually';"],
  ])('refuses %s: %s', async (file, code) => {
    // Static imports are the core rule's; import() is the repository's own rule's.
    expect(await problems(file, code)).toEqual(expect.arrayContaining([expect.stringMatching(/^(no-restricted-imports|cliscale\/layering)$/)]));
  });

  it.each([
    ['gateway/test/side-door.js', "import '../../controller/test/helpers/controller-harness.js';"],
    ['gateway/src/side-door.js', "import '../../controller/src/config.js';"],
    ['web-terminal/test/side-door.js', "const m = await import('../../supervisor/src/config.js'); export default m;"],
    ['chart/test/side-door.js', "import '../../supervisor/src/config.js';"],
  ])('refuses reaching into another workspace by path: %s: %s', async (file, code) => {
    expect(await problems(file, code)).toContain('cliscale/layering');
  });

  it.each([
    ['local/src/wiring.js', "import '@cliscale/controller'; import '@cliscale/gateway';"],
    ['gateway/src/fine.js', "import '@cliscale/database'; import '@cliscale/service-kit'; import '@cliscale/protocol';"],
    ['gateway/test/fine.js', "import '@cliscale/test-kit/eventually'; import '../src/config.js';"],
    ['chart/test/drift.js', "import '../../controller/src/config.js'; import '../../gateway/src/config.js';"],
  ])('lets %s: %s through', async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});
