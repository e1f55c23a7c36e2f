import { Client } from 'pg';
import { loadConfig } from '@rewind/config';
import { createPgPool, migrate, MIGRATIONS_DIR, redactUrl, withDatabase } from '@rewind/db';
import { ensureLocalServices } from '@rewind/local-services';
import { testDatabaseName, TEST_DATABASE_PREFIX } from '@rewind/db/test-support';

/**
 * Jest global setup: real Postgres and Redis (the local ones unless DATABASE_URL/REDIS_URL point
 * elsewhere), a fresh, migrated `rewind_test` database, and the URLs handed to the test workers.
 */
function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  const log = (line: string) => process.stderr.write(`[test setup] ${line}\n`);
  const services = await ensureLocalServices({
    dataDir: config.dataDir,
    postgres: !config.databaseUrl,
    redis: !config.redisUrl,
    log,
  });
  const serverUrl = config.databaseUrl ?? (services.databaseUrl as string);
  const redisUrl = config.redisUrl ?? (services.redisUrl as string);
  // One database per test run, so concurrent runs (two terminals, parallel agents) never collide.
  const database = testDatabaseName(process.pid);
  const databaseUrl = withDatabase(serverUrl, database);

  const admin = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    // Databases of earlier runs whose process is gone (interrupted runs).
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE '${TEST_DATABASE_PREFIX}%' OR datname LIKE 'rewind_scratch_%'`);
    for (const r of rows) {
      const pid = Number(/_(\d+)(?:_[0-9a-f]+)?$/.exec(r.datname)?.[1]);
      if (!pidAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const pool = createPgPool(databaseUrl, { max: 2 });
  try {
    await migrate(pool, MIGRATIONS_DIR);
  } finally {
    await pool.end();
  }
  log(`test database ${redactUrl(databaseUrl)}, redis ${redactUrl(redisUrl)}`);

  process.env.REWIND_TEST_DATABASE_URL = databaseUrl;
  process.env.REWIND_TEST_SERVER_URL = serverUrl;
  process.env.REWIND_TEST_REDIS_URL = redisUrl;
  (globalThis as Record<string, unknown>).__rewindTestRun = { services, serverUrl, database };
}
