import { randomUUID } from 'node:crypto';
import { EventStore, verifySession } from '@rewind/event-store';
import { createMigratedScratchDatabase, ScratchDatabase } from '@rewind/testing';
import { JobEvent, JobStream } from './job-stream';
import type { RunPayload } from './types';

describe("JobStream: a pipeline job's events, stored one transaction per flush (real Postgres)", () => {
  let db: ScratchDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    store = new EventStore(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const run = (): RunPayload => ({
    sessionId: randomUUID(),
    platform: 'rgs',
    game: 'dice',
    platformSessionId: `rgs-${randomUUID().slice(0, 8)}`,
    agent: 'agent-a',
    source: null,
    outcome: { score: 1 },
  });
  const marker = (msgType: string): JobEvent => ({ kind: 'marker', direction: 'internal', channel: 'internal', format: 'json', body: JSON.stringify({ msgType }), msgType });
  const stored = async (id: string) => {
    const out: { seq: number; msgType: string | null; offsetUs: number }[] = [];
    for await (const e of store.readSession(id)) out.push({ seq: e.seq, msgType: e.msgType, offsetUs: e.offsetUs });
    return out;
  };

  it('given events added, then nothing is stored before the flush, and the flush opens the stream and stores them all in one transaction', async () => {
    const r = run();
    const s = new JobStream(store, `job-${randomUUID()}`, 'reward-handoff', r);
    const writes = jest.spyOn(store, 'writeBatch');
    try {
      s.add(marker('attempt'));
      s.add(marker('request'));
      expect(await store.getSession(s.sessionId)).toBeNull();
      await s.flush();
      expect(writes).toHaveBeenCalledTimes(1);
      const session = await store.getSession(s.sessionId);
      expect(session).toMatchObject({ platform: 'rgs', platformSessionId: r.platformSessionId, status: 'open', headSeq: 2 });
      expect(session!.metadata).toMatchObject({ stream: 'pipeline', queue: 'reward-handoff', runSessionId: r.sessionId });
      expect((await stored(s.sessionId)).map((e) => [e.seq, e.msgType])).toEqual([
        [1, 'attempt'],
        [2, 'request'],
      ]);
    } finally {
      writes.mockRestore();
    }
  });

  it('given a result, when the stream ends, then the result marker and the end are stored together (one transaction) and the chain verifies', async () => {
    const s = new JobStream(store, `job-${randomUUID()}`, 'reward-handoff', run());
    await s.append(marker('attempt'));
    s.add(marker('response'));
    s.add(marker('result'));
    const writes = jest.spyOn(store, 'writeBatch');
    try {
      await s.end({ status: 'handed-off' });
      expect(writes).toHaveBeenCalledTimes(1);
    } finally {
      writes.mockRestore();
    }
    const session = await store.getSession(s.sessionId);
    expect(session).toMatchObject({ status: 'ended', headSeq: 3, outcome: { status: 'handed-off' } });
    const events = await stored(s.sessionId);
    expect(events.map((e) => e.msgType)).toEqual(['attempt', 'response', 'result']);
    expect(events.every((e, i) => i === 0 || e.offsetUs >= events[i - 1]!.offsetUs)).toBe(true);
    expect((await verifySession(store, s.sessionId))?.ok).toBe(true);
  });

  it('given a job re-run (a retry, or a take-over after a crash), then its new attempt continues the stored stream', async () => {
    const jobId = `job-${randomUUID()}`;
    const r = run();
    const first = new JobStream(store, jobId, 'snapshot-submission', r);
    await first.append(marker('attempt'));
    first.add(marker('attempt-failed'));
    await first.flush();
    const again = new JobStream(store, jobId, 'snapshot-submission', r);
    expect(again.sessionId).toBe(first.sessionId);
    again.add(marker('attempt'));
    again.add(marker('result'));
    await again.end({ status: 'skipped' });
    expect((await stored(first.sessionId)).map((e) => [e.seq, e.msgType])).toEqual([
      [1, 'attempt'],
      [2, 'attempt-failed'],
      [3, 'attempt'],
      [4, 'result'],
    ]);
    expect((await verifySession(store, first.sessionId))?.ok).toBe(true);
  });

  it('given another writer moved the head meanwhile, then the flush retries from the stored head and nothing is lost', async () => {
    const jobId = `job-${randomUUID()}`;
    const r = run();
    const a = new JobStream(store, jobId, 'reward-handoff', r);
    const b = new JobStream(store, jobId, 'reward-handoff', r);
    await a.append(marker('a1'));
    await b.append(marker('b1')); // b read the head after a's write
    await a.append(marker('a2')); // a's kept head is stale: seq 2 is taken, it retries as seq 3
    expect((await stored(a.sessionId)).map((e) => [e.seq, e.msgType])).toEqual([
      [1, 'a1'],
      [2, 'b1'],
      [3, 'a2'],
    ]);
  });

  it('given an event retracted before the flush, then it is not stored', async () => {
    const s = new JobStream(store, `job-${randomUUID()}`, 'reward-handoff', run());
    const result = marker('result');
    s.add(marker('attempt'));
    s.add(result);
    s.retract(result);
    s.add(marker('attempt-failed'));
    await s.flush();
    expect((await stored(s.sessionId)).map((e) => e.msgType)).toEqual(['attempt', 'attempt-failed']);
  });
});
