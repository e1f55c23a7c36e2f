import { Pool } from 'pg';
import { createTestPool, testDatabaseUrl } from '@rewind/db/test-support';
import { aSession, frames } from './test-support';
import { EventStore } from './event-store';

/**
 * A COPY that fails while the writer waits for the socket to drain (backpressure): the wait must settle with
 * the stream's error, so the transaction ends and its row locks are released — before, the writer waited for
 * a `drain` that never came, holding the session rows locked for good.
 */
describe('EventStore: a COPY that fails under backpressure', () => {
  let pool: Pool;
  let slow: Pool;
  beforeAll(() => {
    pool = createTestPool(2);
    // Postgres cancels any statement of this pool after 1 s; the connection itself stays usable.
    slow = new Pool({ connectionString: testDatabaseUrl(), max: 1, statement_timeout: 1000 });
  });
  afterAll(async () => {
    await slow.end();
    await pool.end();
  });

  it('rejects with the COPY error, rolls back, and leaves no lock on the session rows', async () => {
    const store = new EventStore(pool);
    const session = aSession();
    await store.openSession(session);
    // Someone holds the events table in SHARE mode: reads go on, the COPY waits for its lock and never
    // answers CopyInResponse, so the writer's first chunk (250 rows, far over the stream's high-water mark)
    // waits for `drain` — until the statement timeout cancels the COPY.
    const locker = await pool.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN SHARE MODE');
    const started = Date.now();
    let outcome: string;
    try {
      outcome = await Promise.race([
        new EventStore(slow).writeBatch({ events: frames(session.id, 1, 600) }).then(
          () => 'written',
          (e: Error) => `failed: ${e.message}`,
        ),
        new Promise<string>((r) => setTimeout(() => r('still waiting'), 20_000).unref()),
      ]);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect(outcome).toMatch(/^failed: .*statement timeout/i);
    expect(Date.now() - started).toBeLessThan(20_000);
    // Nothing of the batch is stored, and the session row can be locked at once by someone else.
    expect(await store.getSession(session.id)).toMatchObject({ headSeq: 0 });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(client.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE NOWAIT', [session.id])).resolves.toMatchObject({ rowCount: 1 });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    // The failed writer's connection went back to its pool, usable: the same batch is written now.
    await expect(new EventStore(slow).writeBatch({ events: frames(session.id, 1, 600) })).resolves.toMatchObject({ appended: 600 });
  }, 60_000);
});
