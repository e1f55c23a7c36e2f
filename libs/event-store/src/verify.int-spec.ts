import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestPool, tamper } from '@rewind/db/test-support';
import { aSession, frames } from './test-support';
import { EventStore } from './event-store';
import { verifySession } from './verify';

describe("verifySession against a database edited behind Rewind's back", () => {
  let pool: Pool;
  let store: EventStore;

  beforeAll(() => {
    pool = createTestPool();
    store = new EventStore(pool);
  });
  afterAll(() => pool.end());

  async function recorded(n = 20, seal = false): Promise<string> {
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, n));
    if (seal) await store.sealSession(id);
    return id;
  }

  it('passes an untouched session, open or sealed', async () => {
    expect(await verifySession(store, await recorded())).toMatchObject({ ok: true, eventsChecked: 20, headSeq: 20, sealed: false });
    expect(await verifySession(store, await recorded(20, true))).toMatchObject({ ok: true, sealed: true });
  });

  it('names an edited event', async () => {
    const id = await recorded();
    await tamper(pool, `UPDATE events SET body_text = replace(body_text, '"score":70', '"score":7000') WHERE session_id = $1 AND seq = 7`, [id]);
    expect((await verifySession(store, id))?.firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 7 });
  });

  it('names an edited field that is not the body', async () => {
    const id = await recorded();
    await tamper(pool, `UPDATE events SET offset_us = offset_us + 1 WHERE session_id = $1 AND seq = 12`, [id]);
    expect((await verifySession(store, id))?.firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 12 });
  });

  it('names an edited meta (an HTTP status changed after the fact)', async () => {
    const { id } = await store.openSession(aSession());
    await store.append([...frames(id, 1, 3), { ...frames(id, 4, 1)[0]!, kind: 'response', channel: 'http', meta: '{"status":500}' }, ...frames(id, 5, 2)]);
    expect((await verifySession(store, id))?.ok).toBe(true);
    await tamper(pool, `UPDATE events SET meta = '{"status":200}' WHERE session_id = $1 AND seq = 4`, [id]);
    expect((await verifySession(store, id))?.firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 4 });
  });

  it('names a deleted event', async () => {
    const id = await recorded();
    await tamper(pool, 'DELETE FROM events WHERE session_id = $1 AND seq = 9', [id]);
    expect((await verifySession(store, id))?.firstBreak).toMatchObject({ reason: 'seq_gap', seq: 9 });
  });

  it('names reordered events', async () => {
    const id = await recorded();
    await tamper(pool, 'UPDATE events SET seq = -1 WHERE session_id = $1 AND seq = 5', [id]);
    await tamper(pool, 'UPDATE events SET seq = 5 WHERE session_id = $1 AND seq = 6', [id]);
    await tamper(pool, 'UPDATE events SET seq = 6 WHERE session_id = $1 AND seq = -1', [id]);
    expect((await verifySession(store, id))?.firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 5 });
  });

  it('notices the last events deleted, and a forged seal', async () => {
    const id = await recorded(20, true);
    await tamper(pool, 'DELETE FROM events WHERE session_id = $1 AND seq > 18', [id]);
    expect((await verifySession(store, id))?.firstBreak).toMatchObject({ reason: 'head_mismatch', seq: 19 });

    const other = await recorded(20, true);
    await tamper(pool, 'UPDATE sessions SET sealed_count = 19 WHERE id = $1', [other]);
    expect((await verifySession(store, other))?.firstBreak).toMatchObject({ reason: 'seal_mismatch' });
  });

  it('answers null for an unknown session', async () => {
    expect(await verifySession(store, randomUUID())).toBeNull();
  });
});
