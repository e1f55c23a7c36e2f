import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { createScratchDatabase, ScratchDatabase } from './test-support';
import { migrate, MigrationError, readMigrations } from './migrate';
import { MIGRATIONS_DIR } from './paths';

describe('migration runner', () => {
  let db: ScratchDatabase;
  let dir: string;

  beforeEach(async () => {
    db = await createScratchDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-migrations-'));
    fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterEach(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const addMigration = (name: string, sql: string) => {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  };

  async function expectMigrationError(code: string): Promise<MigrationError> {
    const err = await migrate(db.pool, dir).then(
      () => {
        throw new Error('expected the migration to be refused');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).code).toBe(code);
    return err as MigrationError;
  }

  it('applies every migration once and records it the way Prisma does', async () => {
    const files = readMigrations(dir);
    expect((await migrate(db.pool, dir)).applied).toEqual(files.map((f) => f.name));
    expect(await migrate(db.pool, dir)).toEqual({ applied: [], alreadyApplied: files.map((f) => f.name) });

    const { rows } = await db.pool.query('SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows).toEqual(
      files.map((f) => ({
        migration_name: f.name,
        checksum: createHash('sha256')
          .update(fs.readFileSync(path.join(dir, f.name, 'migration.sql')))
          .digest('hex'),
        finished_at: expect.any(Date),
        rolled_back_at: null,
        applied_steps_count: 1,
      })),
    );
  });

  it('refuses a migration edited after it was applied, and applies nothing after it', async () => {
    await migrate(db.pool, dir);
    const [first] = readMigrations(dir);
    fs.appendFileSync(path.join(dir, (first as { name: string }).name, 'migration.sql'), '\n-- an innocent-looking edit\n');
    addMigration('29990101000000_later', 'CREATE TABLE later_table (id int);');
    const err = await expectMigrationError('CHECKSUM_MISMATCH');
    expect(err.message).toMatch(/was modified after it was applied/);
    const later = await db.pool.query("SELECT to_regclass('later_table') AS t");
    expect(later.rows[0].t).toBeNull();
  });

  it('rolls a failing migration back whole, records it, and retries it once fixed', async () => {
    await migrate(db.pool, dir);
    addMigration('29990101000000_broken', 'CREATE TABLE half_done (id int);\nSELECT no_such_function();');
    const err = await expectMigrationError('MIGRATION_SQL_ERROR');
    expect(err.message).toMatch(/no_such_function/);
    expect((await db.pool.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
    const logged = await db.pool.query(`SELECT rolled_back_at, logs FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`);
    expect(logged.rows[0].rolled_back_at).toBeInstanceOf(Date);

    fs.writeFileSync(path.join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);');
    expect((await migrate(db.pool, dir)).applied).toEqual(['29990101000000_broken']);
  });

  it('refuses a database that has migrations this checkout does not know', async () => {
    addMigration('29990101000000_newer', 'CREATE TABLE newer (id int);');
    await migrate(db.pool, dir);
    fs.rmSync(path.join(dir, '29990101000000_newer'), { recursive: true });
    await expectMigrationError('MISSING_MIGRATION_FILE');
  });

  it('lets concurrent runners apply each migration exactly once', async () => {
    const results = await Promise.all([migrate(db.pool, dir), migrate(db.pool, dir), migrate(db.pool, dir)]);
    const appliedTotal = results.reduce((n, r) => n + r.applied.length, 0);
    expect(appliedTotal).toBe(readMigrations(dir).length);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM "_prisma_migrations"');
    expect(rows[0].n).toBe(readMigrations(dir).length);
  });
});
