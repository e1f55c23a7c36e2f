import { Pool } from 'pg';
import { createTestPool, tamper } from '@rewind/db/test-support';
import { ChainVerifier, EventStore, verifySession } from '@rewind/event-store';
import { aSession, frames } from '@rewind/event-store/test-support';
import { verifyAtHead } from './soak-worker';

/**
 * The soak's reconciliation checks every stream's chain. A stream still written to while it was checked (a
 * spectator recording a session that was still running after the drain) failed with a head behind its events,
 * though nothing was wrong: the check read the head, then the events, and more had been appended in between.
 */
describe("the soak's chain check (real Postgres)", () => {
  let pool: Pool;
  let store: EventStore;

  beforeAll(() => {
    pool = createTestPool();
    store = new EventStore(pool);
  });
  afterAll(() => pool.end());

  /** The store, except that a real append of `more` frames commits between the head's read and the events' (as a live writer's would). */
  const appendingDuringRead = (id: string, from: number, more: number): Pick<EventStore, 'getSession' | 'readSession'> => {
    let appended = false;
    return {
      getSession: (sid) => store.getSession(sid),
      async *readSession(sid, options) {
        if (!appended) {
          appended = true;
          await store.append(frames(id, from, more));
        }
        yield* store.readSession(sid, options);
      },
    };
  };

  it('a stream appended to while it is checked verifies as of the head it read (the unbounded read saw a head behind its events)', async () => {
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, 30));
    // What the check did before: the head at 30, then events through 35.
    const before = await verifySession(appendingDuringRead(id, 31, 5) as EventStore, id);
    expect(before).toMatchObject({ ok: false, firstBreak: { reason: 'head_mismatch' } });

    const at = await verifyAtHead(appendingDuringRead(id, 36, 5), id, ChainVerifier);
    expect(at).toMatchObject({ ok: true, eventsChecked: 35, headSeq: 35 });
    expect(await verifyAtHead(store, id, ChainVerifier)).toMatchObject({ ok: true, eventsChecked: 40, headSeq: 40 });
  });

  it('still names what is wrong: an event edited, events removed at the end, an empty stream is fine, an unknown one is null', async () => {
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, 20));
    await tamper(pool, `UPDATE events SET meta = '{"edited":true}' WHERE session_id = $1 AND seq = 7`, [id]);
    expect(await verifyAtHead(store, id, ChainVerifier)).toMatchObject({ ok: false, firstBreak: { reason: 'hash_mismatch', seq: 7 } });

    const { id: cut } = await store.openSession(aSession());
    await store.append(frames(cut, 1, 20));
    await tamper(pool, `DELETE FROM events WHERE session_id = $1 AND seq > 18`, [cut]);
    expect(await verifyAtHead(store, cut, ChainVerifier)).toMatchObject({ ok: false, firstBreak: { reason: 'head_mismatch', seq: 19 } });

    const { id: empty } = await store.openSession(aSession());
    expect(await verifyAtHead(store, empty, ChainVerifier)).toMatchObject({ ok: true, eventsChecked: 0, headSeq: 0 });
    expect(await verifyAtHead(store, '00000000-0000-4000-8000-000000000000', ChainVerifier)).toBeNull();
  });
});
