import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { PrismaService } from '@rewind/db';
import { EventStore } from '@rewind/event-store';
import { createMigratedScratchDatabase, ScratchDatabase, TcpForwarder, testRedisUrl, waitFor } from '@rewind/testing';
import { openQueues, PipelineQueue } from './queues';
import { OutboxRelay } from './relay';
import type { Queue } from 'bullmq';

describe('OutboxRelay (real Postgres, real Redis)', () => {
  // A database of its own: the relay takes every unrelayed row, and other test files write outbox rows too.
  let db: ScratchDatabase;
  let pool: Pool;
  let store: EventStore;
  let prisma: PrismaService;
  let forwarder: TcpForwarder;
  let queues: Record<PipelineQueue, Queue>;
  const prefix = `relay-${randomUUID().slice(0, 8)}`;
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    pool = db.pool;
    store = new EventStore(pool);
    prisma = new PrismaService(db.url);
    const u = new URL(testRedisUrl());
    forwarder = await TcpForwarder.start(u.hostname, Number(u.port));
    queues = openQueues(forwarder.urlFor(testRedisUrl()), prefix);
  });
  afterAll(async () => {
    forwarder.resume();
    for (const q of Object.values(queues)) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    await forwarder.close();
    await prisma.$disconnect();
    await db.drop();
  });

  /** A run ending: its outcome event and two outbox rows in one append. */
  async function endRun(): Promise<string> {
    const id = randomUUID();
    await store.openSession({ id, platform: 'moltstation', startedAt: new Date() });
    await store.append(
      [{ sessionId: id, seq: 1, kind: 'outcome', direction: 'internal', channel: 'internal', recordedAtUs: Date.now() * 1000, offsetUs: 0, format: 'json', body: '{"reason":"GAME_OVER"}' }],
      [
        { sessionId: id, queue: 'snapshot-submission', jobName: 'snapshot', payload: { sessionId: id }, dedupeKey: `snapshot-submission:test:${id}` },
        { sessionId: id, queue: 'reward-handoff', jobName: 'reward', payload: { sessionId: id }, dedupeKey: `reward-handoff:test:${id}` },
      ],
    );
    return id;
  }
  const rowsOf = async (sessionId: string) =>
    (
      await pool.query<{ id: string; queue: string; relayed_at: Date | null; attempts: number; last_error: string | null }>(
        'SELECT id, queue, relayed_at, attempts, last_error FROM outbox WHERE session_id = $1 ORDER BY queue',
        [sessionId],
      )
    ).rows;
  const relay = () => new OutboxRelay({ prisma, queues, retry: { attempts: 3, backoffMs: 10, maxBackoffMs: 100 }, log, addTimeoutMs: 1000 });

  it('given outbox rows, when relayed, then each becomes one job whose id is the outbox id, and the rows are marked', async () => {
    const run = await endRun();
    await relay().drain();
    const rows = await rowsOf(run);
    expect(rows.map((r) => [r.queue, r.relayed_at !== null, r.attempts])).toEqual([
      ['reward-handoff', true, 1],
      ['snapshot-submission', true, 1],
    ]);
    for (const r of rows) expect((await queues[r.queue as PipelineQueue].getJob(r.id))?.data).toEqual({ sessionId: run });
  });

  it('given Redis down while runs end, then rows wait (attempts and error noted), and are relayed once when Redis is back', async () => {
    forwarder.pause();
    const run = await endRun();
    const r = relay();
    await expect(r.relayOnce()).rejects.toThrow();
    const waiting = await rowsOf(run);
    expect(waiting.every((w) => w.relayed_at === null && w.attempts >= 1 && (w.last_error ?? '').length > 0)).toBe(true);
    forwarder.resume();
    await waitFor('the relay to drain once Postgres is back', () => r.drain().then(() => true), { intervalMs: 200 });
    const rows = await rowsOf(run);
    expect(rows.every((w) => w.relayed_at !== null && w.last_error === null)).toBe(true);
    for (const row of rows) expect(await queues[row.queue as PipelineQueue].getJob(row.id)).toBeDefined();
  });

  it('given a relay that crashed after adding jobs but before marking the rows, when rows are relayed again, then no second job exists', async () => {
    const run = await endRun();
    await relay().drain();
    const before = await Promise.all(Object.values(queues).map((q) => q.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed')));
    await pool.query('UPDATE outbox SET relayed_at = NULL WHERE session_id = $1', [run]); // the crash: marks lost
    await relay().drain();
    const after = await Promise.all(Object.values(queues).map((q) => q.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed')));
    expect(after).toEqual(before);
    expect((await rowsOf(run)).every((r) => r.relayed_at !== null && r.attempts === 2)).toBe(true);
  });

  it('given nothing to relay, then a round is one probe and opens no transaction; a row written after is relayed by the next round', async () => {
    const r = relay();
    await r.drain(); // what earlier tests left
    const transactions = jest.spyOn(prisma, '$transaction');
    try {
      expect(await r.relayOnce()).toBe(0);
      expect(transactions).not.toHaveBeenCalled();
      const run = await endRun();
      expect(await r.relayOnce()).toBe(2);
      expect(transactions).toHaveBeenCalledTimes(1);
      expect((await rowsOf(run)).every((w) => w.relayed_at !== null && w.attempts === 1)).toBe(true);
    } finally {
      transactions.mockRestore();
    }
  });

  it('given two relays at once, then every row is relayed by exactly one of them', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, () => endRun()));
    const a = relay();
    const b = relay();
    const [na, nb] = await Promise.all([a.drain(), b.drain()]);
    const rows = (await Promise.all(runs.map(rowsOf))).flat();
    expect(rows.every((r) => r.relayed_at !== null && r.attempts === 1)).toBe(true);
    expect(na + nb).toBeGreaterThanOrEqual(40);
  });
});
