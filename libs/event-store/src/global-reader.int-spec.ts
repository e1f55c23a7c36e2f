import { Pool } from 'pg';
import { createTestPool } from '@rewind/db/test-support';
import { aSession, frames } from './test-support';
import { appendInTransaction } from './append';
import { EventStore } from './event-store';
import { GLOBAL_START, GlobalCheckpoint, StoredEvent } from './types';

/**
 * Reads the global order until it has caught up, keeping only the events of `sessions`. "Caught up" is
 * as of now: a transaction still open anywhere in the cluster (other test files run in parallel) holds
 * later commits back until it ends, so callers that expect a count poll with `drainUntil`.
 */
async function drain(store: EventStore, from: GlobalCheckpoint, sessions: Set<string>) {
  const seen: StoredEvent[] = [];
  let checkpoint = from;
  for (;;) {
    const page = await store.readGlobal(checkpoint, 250);
    seen.push(...page.events.filter((e) => sessions.has(e.sessionId)));
    checkpoint = page.checkpoint;
    if (page.events.length < 250) return { seen, checkpoint };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drains repeatedly until `count` events of `sessions` were seen (an event skipped for good times out). */
async function drainUntil(store: EventStore, from: GlobalCheckpoint, sessions: Set<string>, count: number, timeoutMs = 15_000) {
  const seen: StoredEvent[] = [];
  let checkpoint = from;
  const deadline = Date.now() + timeoutMs;
  while (seen.length < count && Date.now() < deadline) {
    const page = await drain(store, checkpoint, sessions);
    seen.push(...page.seen);
    checkpoint = page.checkpoint;
    if (seen.length < count) await sleep(20);
  }
  return { seen, checkpoint };
}

describe('global-order reader', () => {
  let pool: Pool;
  let store: EventStore;

  beforeAll(() => {
    pool = createTestPool(12);
    store = new EventStore(pool);
  });
  afterAll(() => pool.end());

  it('does not pass a transaction that commits late', async () => {
    const a = (await store.openSession(aSession())).id;
    const b = (await store.openSession(aSession())).id;
    const mine = new Set([a, b]);
    const start = (await drain(store, GLOBAL_START, mine)).checkpoint;

    const early = await pool.connect();
    try {
      await early.query('BEGIN');
      await appendInTransaction(early, frames(a, 1, 3)); // takes its transaction id first
      await store.append(frames(b, 1, 3)); // a later transaction, committed first

      const whileOpen = await drain(store, start, mine);
      expect(whileOpen.seen).toEqual([]); // B waits behind the open A rather than being read past it

      await early.query('COMMIT');
    } finally {
      early.release();
    }
    const after = await drainUntil(store, start, mine, 6);
    expect(after.seen.map((e) => `${e.sessionId === a ? 'a' : 'b'}${e.seq}`)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
  });

  it('never skips or repeats an event under concurrent appends', async () => {
    const writers = 6;
    const batches = 15;
    const ids = await Promise.all(Array.from({ length: writers }, async () => (await store.openSession(aSession())).id));
    const mine = new Set(ids);
    let checkpoint = (await drain(store, GLOBAL_START, mine)).checkpoint;
    const seen: StoredEvent[] = [];
    let writing = true;

    const reader = (async () => {
      while (writing) {
        const page = await store.readGlobal(checkpoint, 100);
        seen.push(...page.events.filter((e) => mine.has(e.sessionId)));
        checkpoint = page.checkpoint;
        await sleep(1);
      }
    })();

    await Promise.all(
      ids.map(async (id, w) => {
        for (let b = 0; b < batches; b++) {
          await store.transaction(async (client) => {
            await appendInTransaction(client, frames(id, b * 5 + 1, 5));
            await sleep(((w * 7 + b * 3) % 5) * 3); // commits interleave out of transaction-id order
          });
        }
      }),
    );
    writing = false;
    await reader;
    const rest = await drainUntil(store, checkpoint, mine, writers * batches * 5 - seen.length);
    seen.push(...rest.seen);
    await sleep(50);
    seen.push(...(await drain(store, rest.checkpoint, mine)).seen); // and nothing is served twice later

    const keys = seen.map((e) => `${e.sessionId}:${e.seq}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(writers * batches * 5);
    for (const id of ids) {
      expect(seen.filter((e) => e.sessionId === id).map((e) => e.seq)).toEqual(Array.from({ length: batches * 5 }, (_, i) => i + 1));
    }
  });
});
