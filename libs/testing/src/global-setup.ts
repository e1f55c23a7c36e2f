import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '@rewind/config';
import { createPgPool, migrate, MIGRATIONS_DIR, redactUrl, withDatabase } from '@rewind/db';
import { ensureLocalServices } from '@rewind/local-services';
import { TEST_STATE_FILE, TEST_DATABASE } from './test-env';

/**
 * Jest global setup: real Postgres and Redis (the local ones unless DATABASE_URL/REDIS_URL point
 * elsewhere), a fresh, migrated `rewind_test` database, and the URLs handed to the test workers.
 */
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
  const databaseUrl = withDatabase(serverUrl, TEST_DATABASE);

  const admin = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEST_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEST_DATABASE}`);
    // Scratch databases of earlier runs that were interrupted.
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'rewind_scratch_%'");
    for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
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
  fs.mkdirSync(path.dirname(TEST_STATE_FILE), { recursive: true });
  fs.writeFileSync(
    TEST_STATE_FILE,
    JSON.stringify({ startedPostgres: services.startedPostgres, startedRedis: services.startedRedis, dataDir: config.dataDir }),
  );
  (globalThis as Record<string, unknown>).__rewindServices = services;
}
