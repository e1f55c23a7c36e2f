// One Jest run for the whole workspace: unit (*.spec.ts) and integration (*.int-spec.ts) tests.
// Integration tests use real Postgres and Redis, started (when DATABASE_URL/REDIS_URL are unset) by the
// global setup, which also creates and migrates a fresh test database.
const swc = require('./scripts/swc-options.js');
const { compilerOptions } = require('./tsconfig.base.json');

// The workspace aliases, straight from tsconfig.base.json (one list for tsc, the runtime and Jest).
const moduleNameMapper = Object.fromEntries(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias.replace('/', '\\/')}$`, `<rootDir>/${target}`]));

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  // The web viewer's modules import each other as the browser does ('./timeline.js' is ./timeline.ts here).
  moduleNameMapper: { ...moduleNameMapper, '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/libs/testing/jest/global-setup.js',
  globalTeardown: '<rootDir>/libs/testing/jest/global-teardown.js',
  // Generous: the suite must pass beside a benchmark on a 2-core machine (tests wait for conditions, not for time).
  testTimeout: 120000,
  maxWorkers: 2,
  verbose: false,
};
