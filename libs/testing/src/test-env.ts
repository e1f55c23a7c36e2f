import * as path from 'node:path';
import { findRepoRoot } from '@rewind/config';

export const TEST_DATABASE = 'rewind_test';
export const TEST_STATE_FILE = path.join(findRepoRoot(), '.rewind', 'test-run.json');

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
