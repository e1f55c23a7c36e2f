// ESLint for the whole workspace (flat config): `npm run lint`, `npx nx run-many -t lint`, and `./rewind test`.
// The rules that matter most are the architecture's: @nx/enforce-module-boundaries reads the scope:* and type:*
// tags of every project.json, so a product library cannot import the simulator, the bots or the test support,
// and no two projects may depend on each other (a circular dependency is an error). See docs/development.md.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** What runs in production. A product project depends only on product projects (directly; the rule's tag checks are per import). */
const PRODUCT_SCOPES = ['scope:shared', 'scope:platforms', 'scope:capture', 'scope:pipeline', 'scope:replay', 'scope:audit', 'scope:api', 'scope:app', 'scope:viewer'];
// Not product: scope:simulator (libs/simulator, the bots in libs/agents, apps/simulator) and scope:testing (libs/testing, libs/fuzz).

/** The layers: a project depends on its own layer or those below; nothing imports an app. */
const LAYERS = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util', 'type:testing'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util', 'type:testing'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util', 'type:testing'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util'] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
];

const boundaries = (depConstraints) => [
  'error',
  {
    allow: [],
    enforceBuildableLibDependency: false,
    banTransitiveDependencies: false,
    // The cli loads some libraries with `await import()` to keep a child process's start-up small, and imports
    // them statically elsewhere: nothing is bundled or code-split here, so mixing the two is fine.
    checkDynamicDependenciesExceptions: ['@rewind/**'],
    depConstraints,
  },
];

/** Product code: the layers, and product scopes only (so no simulator, bots or test support). */
const productBoundaries = boundaries([...LAYERS, ...PRODUCT_SCOPES.map((sourceTag) => ({ sourceTag, onlyDependOnLibsWithTags: PRODUCT_SCOPES }))]);
/**
 * Tests, test support and test tools may import any project (a spec drives the simulator and its bots). The rule
 * still checks there what it checks besides tags: no circular dependency, no relative import into another project.
 */
const testBoundaries = boundaries([{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }]);

/** Test code that lives inside product projects. */
const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/*.soak-spec.ts', '**/test-support/**', '**/test-support.ts', '**/test-helpers.ts', 'apps/viewer/e2e/**'];
/** Import paths of test code inside projects (not projects of their own, so the tags cannot see them). */
const TEST_SUPPORT_IMPORTS = ['**/test-support', '**/test-support/**', '**/test-helpers', '@rewind/*/test-support'];

/** The Node.js globals of the few plain JavaScript files (TypeScript files leave undefined names to tsc). */
const NODE_GLOBALS = Object.fromEntries(['require', 'module', 'exports', '__dirname', '__filename', 'process', 'console', 'Buffer'].map((g) => [g, 'readonly']));

export default defineConfig(
  { ignores: ['**/node_modules/**', 'libs/db/src/generated/**', 'test-output/**', '.rewind/**', 'dist/**', 'coverage/**', '.nx/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@nx/enforce-module-boundaries': productBoundaries,
      'no-restricted-imports': ['error', { patterns: [{ group: TEST_SUPPORT_IMPORTS, message: 'Test support is for tests: product code must not import it.' }] }],
      // A `let` read (by a closure) before its one assignment cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_`-prefixed names are deliberately unused (tsc's noUnusedLocals/noUnusedParameters agree).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Test code, and the test and demo tools that run the simulator, its bots and the recorder's test support by
    // design: the soak and benchmark drivers, and the cli's `demo` and `simulator` commands.
    files: [...TEST_FILES, 'apps/cli/src/bench/**', 'apps/cli/src/commands/demo.ts', 'apps/cli/src/commands/simulator.ts'],
    rules: { '@nx/enforce-module-boundaries': testBoundaries, 'no-restricted-imports': 'off' },
  },
  {
    // `any` stays out of the product. Tests, the simulated platforms and their bots poke at loosely typed wire JSON.
    files: [...TEST_FILES, 'libs/simulator/**', 'libs/agents/**', 'libs/testing/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The test support library gathers the test support of the libraries below it.
    files: ['libs/testing/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: NODE_GLOBALS },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Jest loads its global setup outside its module system: these two files bootstrap the TypeScript through the
    // workspace's register hook (scripts/, not a project), which the rule would take for a relative external import.
    files: ['libs/testing/jest/*.js'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
);
