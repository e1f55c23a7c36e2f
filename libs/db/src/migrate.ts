import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pool, PoolClient } from 'pg';

/**
 * Rewind's offline migration runner. It applies `prisma/migrations/<name>/migration.sql` in name order
 * and records each in Prisma's own `_prisma_migrations` table (same columns, same sha256 checksum of the
 * file), so `prisma migrate status` and `prisma migrate deploy` agree wherever a schema engine exists.
 * Each migration runs in one transaction; an advisory lock keeps concurrent runners apart.
 */

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export type MigrationErrorCode = 'CHECKSUM_MISMATCH' | 'FAILED_MIGRATION' | 'MISSING_MIGRATION_FILE' | 'MIGRATION_SQL_ERROR';

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    readonly migration: string,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** Advisory lock key: "rewind:migrate" folded into a bigint. */
const LOCK_KEY = '7372697065207261';

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function checksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export function readMigrations(dir: string): MigrationFile[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksum(sql) };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

export async function migrate(pool: Pool, migrationsDir: string, log: (line: string) => void = () => undefined): Promise<MigrateResult> {
  const files = readMigrations(migrationsDir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [BigInt('0x' + LOCK_KEY).toString()]);
    try {
      return await migrateLocked(client, files, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [BigInt('0x' + LOCK_KEY).toString()]);
    }
  } finally {
    client.release();
  }
}

async function migrateLocked(client: PoolClient, files: MigrationFile[], log: (line: string) => void): Promise<MigrateResult> {
  await client.query(MIGRATIONS_TABLE);
  const { rows } = await client.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at, migration_name');
  const byName = new Map(files.map((f) => [f.name, f]));
  const applied = new Set<string>();
  for (const row of rows) {
    if (row.rolled_back_at) continue;
    if (!row.finished_at) {
      throw new MigrationError(
        'FAILED_MIGRATION',
        row.migration_name,
        `Migration ${row.migration_name} started but never finished (logs: ${row.logs ?? 'none'}). ` +
          `Repair the database, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${row.migration_name}').`,
      );
    }
    const file = byName.get(row.migration_name);
    if (!file) {
      throw new MigrationError(
        'MISSING_MIGRATION_FILE',
        row.migration_name,
        `Migration ${row.migration_name} is applied to the database but missing from prisma/migrations: this checkout is older than the database.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        'CHECKSUM_MISMATCH',
        row.migration_name,
        `Migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ` +
          `${file.checksum.slice(0, 12)}… on disk). Never edit an applied migration: restore the file and add a new migration.`,
      );
    }
    applied.add(row.migration_name);
  }

  const result: MigrateResult = { applied: [], alreadyApplied: [...applied] };
  for (const file of files) {
    if (applied.has(file.name)) continue;
    const id = randomUUID();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [id, file.checksum, file.name]);
      await client.query(file.sql);
      await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      const message = e instanceof Error ? e.message : String(e);
      // The transaction rolled the migration back entirely: record the attempt as rolled back so the
      // next run (ours or `prisma migrate deploy`) retries it once the SQL is fixed.
      await client
        .query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, rolled_back_at, logs) VALUES ($1, $2, $3, now(), now(), $4)', [id, file.checksum, file.name, message])
        .catch(() => undefined);
      throw new MigrationError('MIGRATION_SQL_ERROR', file.name, `Migration ${file.name} failed and was rolled back: ${message}`);
    }
    log(`applied migration ${file.name}`);
    result.applied.push(file.name);
  }
  return result;
}
