import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { createPgPool, migrate, MIGRATIONS_DIR, withDatabase } from '@rewind/db';

export interface BenchDatabase {
  url: string;
  pool: Pool;
  /** Ends the pool and drops the database (idempotent). */
  drop(): Promise<void>;
}

/** A migrated database of a benchmark's own on the server of `serverUrl` (`rewind_bench_<label>_…`), so runs never touch real data. */
export async function benchDatabase(serverUrl: string, label: string): Promise<BenchDatabase> {
  const name = `rewind_bench_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = withDatabase(serverUrl, name);
  const pool = createPgPool(url, { max: 4 });
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await pool.end().catch(() => undefined);
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    await migrate(pool, MIGRATIONS_DIR, () => undefined);
  } catch (e) {
    await drop();
    throw e;
  }
  return { url, pool, drop };
}
