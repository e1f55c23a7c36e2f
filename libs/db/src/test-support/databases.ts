import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrate } from '../migrate';
import { MIGRATIONS_DIR } from '../paths';
import { createPgPool, withDatabase } from '../pg';
import { testDatabaseUrl, testServerUrl } from './test-env';

export interface ScratchDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A new, empty database on the test server, for tests that migrate or break a schema of their own. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `rewind_scratch_${process.ppid}_${randomBytes(4).toString('hex')}`; // parent = the Jest run
  const admin = new Client({ connectionString: withDatabase(testServerUrl(), 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(testServerUrl(), name);
  const pool = createPgPool(url, { max: 4 });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new Client({ connectionString: withDatabase(testServerUrl(), 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A pool on the shared, migrated test database. */
export function createTestPool(max = 6): Pool {
  return createPgPool(testDatabaseUrl(), { max });
}

/**
 * Runs SQL the way an attacker with database access would: with triggers off
 * (`session_replication_role = replica`), to prove that Rewind detects what it cannot prevent.
 */
export async function tamper(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    const r = await client.query(sql, params);
    await client.query('COMMIT');
    return r.rowCount ?? 0;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** A new database with Rewind's schema, for tests whose components take every row of a table (e.g. the outbox relay). */
export async function createMigratedScratchDatabase(): Promise<ScratchDatabase> {
  const db = await createScratchDatabase();
  await migrate(db.pool, MIGRATIONS_DIR);
  return db;
}
