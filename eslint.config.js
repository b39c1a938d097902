// ESLint flat config: typescript-eslint's type-aware recommended rules, plus the layering rules of the monorepo.
// Run: npm run lint  (eslint .)
import path from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;

// ---------------------------------------------------------------------------------------------
// Layering. Folder name -> kind: deployables never import each other; libraries import no deployable; local is
// the one composition root (it may wire the controller and the gateway together).
const DEPLOYABLES = ['controller', 'gateway', 'supervisor', 'web-terminal'];
const LIBRARIES = ['protocol', 'service-kit', 'runner-contract', 'terminal-screen', 'database', 'test-kit'];
const COMPOSITION_ROOT = 'local';
const WORKSPACE_DIRS = new Set([...DEPLOYABLES, ...LIBRARIES, COMPOSITION_ROOT]);
// The one allowed side door: chart/test checks the chart against the config code it renders (drift tests).
const RELATIVE_EXCEPTIONS = [{ from: 'chart/test/', into: ['controller/src/', 'gateway/src/'] }];

/** Packages (by folder name) that code in `dir` may not import. */
function forbiddenFor(dir) {
  if (DEPLOYABLES.includes(dir)) return [...DEPLOYABLES.filter((d) => d !== dir), COMPOSITION_ROOT];
  if (LIBRARIES.includes(dir)) return [...DEPLOYABLES, COMPOSITION_ROOT];
  if (dir === COMPOSITION_ROOT) return DEPLOYABLES.filter((d) => d !== 'controller' && d !== 'gateway');
  return [];
}
const packageRegex = (names) => `^@cliscale/(${names.join('|')})(/.*)?$`;

/**
 * Local rule: (1) no relative import whose target lies in another workspace folder (static, export-from,
 * dynamic import(), require(), jest.unstable_mockModule/jest.mock); (2) dynamic import()/mock of a forbidden
 * @cliscale package, which core no-restricted-imports does not see.
 */
const layering = {
  meta: {
    type: 'problem',
    schema: [{ type: 'object', properties: { forbiddenPackages: { type: 'string' } }, additionalProperties: false }],
    messages: {
      relative: "'{{spec}}' reaches into workspace '{{target}}' by relative path; import its package (@cliscale/...) or move the shared code into a library.",
      pkg: "'{{spec}}' is a deployable (or the composition root); this layer may not depend on it.",
    },
  },
  create(context) {
    const forbidden = context.options[0]?.forbiddenPackages ? new RegExp(context.options[0].forbiddenPackages) : null;
    const fromRel = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const fromTop = fromRel.split('/')[0];
    function check(node, spec, dynamic) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const target = path.relative(ROOT, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/');
        const top = target.split('/')[0];
        if (top === fromTop || !WORKSPACE_DIRS.has(top)) return;
        if (RELATIVE_EXCEPTIONS.some((e) => fromRel.startsWith(e.from) && e.into.some((p) => target.startsWith(p)))) return;
        context.report({ node, messageId: 'relative', data: { spec, target: top } });
      } else if (dynamic && forbidden?.test(spec)) {
        context.report({ node, messageId: 'pkg', data: { spec } });
      }
    }
    const isMockCall = (callee) =>
      callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && callee.object.name === 'jest' &&
      callee.property.type === 'Identifier' && ['mock', 'unstable_mockModule', 'requireActual', 'doMock'].includes(callee.property.name);
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value, false),
      ExportNamedDeclaration: (n) => n.source && check(n.source, n.source.value, false),
      ExportAllDeclaration: (n) => check(n.source, n.source.value, false),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n.source, n.source.value, true),
      CallExpression(n) {
        const arg = n.arguments[0];
        if (arg?.type !== 'Literal') return;
        if ((n.callee.type === 'Identifier' && n.callee.name === 'require') || isMockCall(n.callee)) check(arg, arg.value, true);
      },
    };
  },
};

function layerConfig(dir, files) {
  const names = forbiddenFor(dir);
  const srcOnly = files.some((f) => f.includes('/src/'));
  const patterns = [];
  if (names.length) patterns.push({ regex: packageRegex(names), message: 'Deployables may not depend on each other; libraries on no deployable (see eslint.config.js, layering).' });
  if (srcOnly) patterns.push({ regex: '^@cliscale/test-kit(/.*)?$', message: 'test-kit is dev-only: import it from tests, never from src.' });
  const forbiddenPackages = [names.length && packageRegex(names), srcOnly && '^@cliscale/test-kit(/.*)?$'].filter(Boolean).join('|');
  return {
    name: `cliscale/layering/${files.join(',')}`,
    files,
    rules: {
      'no-restricted-imports': patterns.length ? ['error', { patterns }] : 'off',
      'cliscale/layering': ['error', forbiddenPackages ? { forbiddenPackages } : {}],
    },
  };
}

const layeringConfigs = [...WORKSPACE_DIRS, 'chart'].flatMap((dir) => [
  layerConfig(dir, [`${dir}/src/**`]),
  // Tests, build scripts, bin: the same package rules minus the test-kit one. Excludes src, because when two
  // objects set the same rule for a file the later one wins.
  { ...layerConfig(dir, [`${dir}/**`]), ignores: [`${dir}/src/**`] },
]);

// ---------------------------------------------------------------------------------------------
export default defineConfig(
  { name: 'cliscale/ignores', ignores: ['**/dist/**', '**/node_modules/**', 'test-artifacts/**', 'coverage/**'] },
  { name: 'cliscale/linter', linterOptions: { reportUnusedDisableDirectives: 'error' } },

  // Every JS/TS file: ESLint's recommended set, Node globals (the JS here is Node code: bench, build scripts, jest setup).
  { ...js.configs.recommended, name: 'eslint/recommended' },
  { name: 'cliscale/node-globals', languageOptions: { globals: { ...globals.node } } },

  // TypeScript: typescript-eslint recommended, type-aware (root tsconfig.json via the project service).
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    name: 'cliscale/typescript',
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: ROOT } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    name: 'cliscale/adjustments',
    rules: {
      // Terminal code strips and matches control characters on purpose (ANSI, C0/C1): every hit is intended.
      'no-control-regex': 'off',
      // A variable assigned once, after closures that read it are made (a server's handler before the thing it
      // hands requests to exists), cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Async methods that implement Promise-returning interfaces without awaiting are fine; dropping `async`
      // to please the rule would turn their throws into synchronous throws.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Tests read untyped JSON bodies and knex rows all the time; type holes there cost casts, not bugs.
  {
    name: 'cliscale/tests',
    files: ['**/test/**/*.ts', 'test-kit/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { name: 'cliscale/layering-plugin', plugins: { cliscale: { rules: { layering } } } },
  ...layeringConfigs,
);
