import type { Pool, PoolClient } from 'pg';

/**
 * Runs `work` in one transaction on one pooled connection. While a client is checked out the pool does
 * not listen to its errors: a connection lost mid-transaction would be an unhandled 'error' event and
 * kill the process. Here it is absorbed (the pending query rejects with it) and the broken client is
 * destroyed on release instead of returning to the pool.
 */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error): void => {
    broken = e;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    if (!broken) await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? undefined);
  }
}
