import { randomBytes, randomUUID } from 'node:crypto';
import { EventStore, NewEvent } from '@rewind/event-store';
import { createMigratedScratchDatabase, ScratchDatabase } from '@rewind/testing';
import { AuditService } from './service';
import { findRun } from './load';

describe('AuditService: an automatic audit waiting for the pipeline reads only the job streams (real Postgres)', () => {
  let db: ScratchDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    store = new EventStore(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const event = (sessionId: string, seq: number, kind: NewEvent['kind'], msgType: string, body: unknown): NewEvent => ({
    sessionId,
    seq,
    kind,
    direction: 'internal',
    channel: 'internal',
    recordedAtUs: Date.now() * 1000,
    offsetUs: seq,
    format: 'json',
    body: JSON.stringify(body),
    msgType,
  });

  /** An RGS run with many events, ended with its outcome and its three outbox rows, as the recorder writes it. */
  async function endRun(): Promise<{ sessionId: string; platformSessionId: string }> {
    const sessionId = randomUUID();
    const platformSessionId = `rgs-${randomBytes(6).toString('hex')}`;
    await store.openSession({
      id: sessionId,
      platform: 'rgs',
      game: 'dice',
      platformSessionId,
      agent: 'agent-a',
      source: null,
      startedAt: new Date(),
      metadata: { stream: 'run', capturedBy: 'test' },
    });
    const outcome = { platform: 'rgs', game: 'dice', platformSessionId, agent: 'agent-a', score: 7, reason: 'GAME_OVER' };
    const payload = { sessionId, platform: 'rgs', game: 'dice', platformSessionId, agent: 'agent-a', source: null, outcome };
    const run = `rgs:${platformSessionId}`;
    const events = [...Array.from({ length: 50 }, (_, i) => event(sessionId, i + 1, 'marker', 'note', { i })), event(sessionId, 51, 'outcome', 'outcome', outcome)];
    await store.append(events, [
      { sessionId, queue: 'snapshot-submission', jobName: 'snapshot', payload, dedupeKey: `snapshot-submission:${run}` },
      { sessionId, queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:${run}` },
      { sessionId, queue: 'run-audit', jobName: 'audit', payload, dedupeKey: `run-audit:${run}` },
    ]);
    await store.endSession(sessionId, new Date(), outcome);
    return { sessionId, platformSessionId };
  }

  const jobMetadata = (run: { sessionId: string }, queue: string, id: string) => ({ stream: 'pipeline', capturedBy: 'pipeline', queue, jobId: id, runSessionId: run.sessionId });

  /** A job stream of the run that has started (its attempt marker stored) and has no result yet: the stream is open. */
  async function startJob(run: { sessionId: string; platformSessionId: string }, queue: string): Promise<string> {
    const id = randomUUID();
    await store.writeBatch({
      opens: [{ id, platform: 'rgs', game: 'dice', platformSessionId: run.platformSessionId, agent: 'agent-a', source: null, startedAt: new Date(), metadata: jobMetadata(run, queue, id) }],
      events: [event(id, 1, 'marker', 'attempt', { attempt: 1 })],
    });
    return id;
  }

  /** The job's result stored and its stream ended in one transaction, as JobRecording does. */
  async function endJob(id: string, result: unknown): Promise<void> {
    await store.writeBatch({ events: [event(id, 2, 'marker', 'result', result)], ends: [{ sessionId: id, endedAt: new Date(), outcome: result }] });
  }

  /** A finished job stream of the run, as the pipeline writes it (result marker, stream ended). */
  async function finishJob(run: { sessionId: string; platformSessionId: string }, queue: string, result: unknown): Promise<string> {
    const id = randomUUID();
    await store.writeBatch({
      opens: [
        {
          id,
          platform: 'rgs',
          game: 'dice',
          platformSessionId: run.platformSessionId,
          agent: 'agent-a',
          source: null,
          startedAt: new Date(),
          metadata: { stream: 'pipeline', capturedBy: 'pipeline', queue, jobId: id, runSessionId: run.sessionId },
        },
      ],
      events: [event(id, 1, 'marker', 'attempt', { attempt: 1 }), event(id, 2, 'marker', 'result', result)],
      ends: [{ sessionId: id, endedAt: new Date(), outcome: result }],
    });
    return id;
  }

  it("given a run whose snapshot and handoff jobs have not finished, then the waiting audit is pending without reading the run's own stream; once they have, it audits the whole run", async () => {
    const audits = new AuditService(db.pool, store);
    const run = await endRun();
    // The audit reads a run's streams together (one page read for several streams): the streams each read named.
    const reads = jest.spyOn(store.reads, 'sessionsPage');
    const streamsRead = () => reads.mock.calls.flatMap((c) => [...c[0]]).sort();
    try {
      expect(await audits.auditSession(run.sessionId, 'pipeline', true)).toBe('pending');
      const snapshot = await finishJob(run, 'snapshot-submission', { status: 'skipped', reason: 'rgs' });
      // The handoff job has not started (no job stream): pending from the session rows alone, no stream read.
      expect(await audits.auditSession(run.sessionId, 'pipeline', true)).toBe('pending');
      expect(streamsRead()).toEqual([]);
      // The handoff job has started and has no result yet: pending, from the job streams only.
      const handoff = await startJob(run, 'reward-handoff');
      expect(await audits.auditSession(run.sessionId, 'pipeline', true)).toBe('pending');
      expect(streamsRead()).toEqual([snapshot, handoff].sort());
      expect((await db.pool.query('SELECT count(*)::int AS n FROM audits')).rows[0].n).toBe(0);

      await endJob(handoff, { status: 'handed-off', httpStatus: 201, receiptId: null, duplicate: false });
      reads.mockClear();
      const audit = await audits.auditSession(run.sessionId, 'pipeline', true);
      expect(audit).toMatchObject({ runKey: `rgs:${run.platformSessionId}`, runSessionId: run.sessionId, trigger: 'pipeline' });
      // The job streams for the pending check, then the run's own streams for the audit itself: each stream read once.
      expect(streamsRead()).toEqual([snapshot, handoff, run.sessionId].sort());
      expect((await db.pool.query('SELECT count(*)::int AS n FROM audits')).rows[0].n).toBe(1);
    } finally {
      reads.mockRestore();
    }
  });

  it("given a run and a job stream of it, when found, then the session records read on the pool are the repository's (Prisma's), field by field", async () => {
    const run = await endRun();
    const job = await finishJob(run, 'reward-handoff', { status: 'handed-off', httpStatus: 201, receiptId: null, duplicate: false });
    const found = await findRun(db.pool, job);
    expect(found).not.toBeNull();
    expect(found!.anchor).toEqual(await store.getSession(run.sessionId));
    expect(found!.recorder).toEqual([await store.getSession(run.sessionId)]);
    expect(found!.pipeline).toEqual([await store.getSession(job)]);
  });
});
