export const TEST_DATABASE_PREFIX = 'rewind_test_';

/** The database of one test run (named after the Jest parent process). */
export const testDatabaseName = (pid: number): string => `${TEST_DATABASE_PREFIX}${pid}`;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through \`./rewind test\` (or jest with the repository's jest.config.js)`);
  return v;
}

/** The migrated test database (set by the global setup). */
export const testDatabaseUrl = (): string => required('REWIND_TEST_DATABASE_URL');
/** The Postgres server of the tests, for scratch databases. */
export const testServerUrl = (): string => required('REWIND_TEST_SERVER_URL');
export const testRedisUrl = (): string => required('REWIND_TEST_REDIS_URL');
