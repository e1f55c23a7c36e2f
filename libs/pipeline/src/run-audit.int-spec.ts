import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { EventStore, NewOutboxMessage } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createMigratedScratchDatabase, ScratchDatabase, testRedisUrl, waitFor } from '@rewind/testing';
import type { RunAuditProgress } from './jobs';
import { RunningPipeline, startPipeline } from './service';
import type { AuditJobResult } from './types';

describe('the run audit waits for its snapshot and handoff jobs without spending attempts (real Postgres, Redis, rewards endpoint)', () => {
  let sim: RunningSimulator;
  let db: ScratchDatabase;
  let pool: Pool;
  let store: EventStore;
  let pipeline: RunningPipeline | undefined;
  const key = randomBytes(32);
  const prefix = `audit-wait-${randomUUID().slice(0, 8)}`;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    pool = db.pool;
    store = new EventStore(pool);
    sim = await startSimulator({ port: 0, seed: 'run-audit-wait' });
  });
  afterAll(async () => {
    await pipeline?.close();
    await sim?.close();
    await db?.drop();
  });

  /** An RGS run ending as `Recorder.endStream` writes it: outcome event and the three outbox rows in one append. */
  async function endRun(): Promise<{ sessionId: string; rows: Record<string, string> }> {
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
    const outbox: NewOutboxMessage[] = [
      { sessionId, queue: 'snapshot-submission', jobName: 'snapshot', payload, dedupeKey: `snapshot-submission:${run}` },
      { sessionId, queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:${run}` },
      { sessionId, queue: 'run-audit', jobName: 'audit', payload, dedupeKey: `run-audit:${run}` },
    ];
    await store.append(
      [
        {
          sessionId,
          seq: 1,
          kind: 'outcome',
          direction: 'internal',
          channel: 'internal',
          recordedAtUs: Date.now() * 1000,
          offsetUs: 0,
          format: 'json',
          body: JSON.stringify(outcome),
          msgType: 'outcome',
        },
      ],
      outbox,
    );
    await store.endSession(sessionId, new Date(), outcome);
    const { rows } = await pool.query<{ id: string; queue: string }>('SELECT id, queue FROM outbox WHERE session_id = $1', [sessionId]);
    return { sessionId, rows: Object.fromEntries(rows.map((r) => [r.queue, r.id])) };
  }

  it('given attempts: 2 and a handoff that takes many back-off periods, then the audit job is re-checked (not retried), keeps its attempts, and audits once both jobs are done', async () => {
    const { sessionId, rows } = await endRun();
    // The endpoint takes the handoff and answers after 2.5 s: about 25 back-off periods of 100 ms.
    sim.faults.add({ platform: 'rewards', fault: 'timeout', target: rows['reward-handoff'], params: { ms: 2500, commit: true }, times: 1 } as never);
    pipeline = await startPipeline({
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      prefix,
      key,
      rewardsUrl: `${sim.rewardsUrl}/handoffs`,
      retry: { attempts: 2, backoffMs: 100, maxBackoffMs: 200 },
      concurrency: 4,
      requestTimeoutMs: 10_000,
      relayIntervalMs: 50,
      log,
    });
    const p = pipeline;
    expect(p.workers!['run-audit'].opts).toMatchObject({ concurrency: 4, maxStalledCount: 1000 });
    // A worker's errors reach the log (@OnWorkerEvent on the processors' base): without a listener they would throw.
    expect(Object.values(p.workers!).map((w) => w.listenerCount('error'))).toEqual([1, 1, 1]);

    // While the handoff is in flight, the audit has been checked more than its 2 attempts allow, without failing.
    const waiting = await waitFor(
      'the audit re-checked while the handoff is in flight',
      async () => {
        const j = await p.queues['run-audit'].getJob(rows['run-audit']!);
        const checks = (j?.progress as Partial<RunAuditProgress> | undefined)?.checks ?? 0;
        return checks >= 3 && (await p.queues['reward-handoff'].getJob(rows['reward-handoff']!).then((r) => r?.isActive())) && j;
      },
      15_000,
    );
    expect(waiting.attemptsMade).toBe(0);
    expect(await waiting.getState()).toMatch(/delayed|active|waiting/);

    await waitFor('the audit job completed', async () => (await p.queues['run-audit'].getJob(rows['run-audit']!))?.isCompleted(), 20_000);
    // Read again once completed: a job read before `isCompleted()` turned true may hold its fields from before.
    const audit = (await p.queues['run-audit'].getJob(rows['run-audit']!))!;
    expect(audit.attemptsMade).toBe(1); // the one run that audited: no attempt was spent waiting
    expect(await p.queues['run-audit'].getFailedCount()).toBe(0);
    const reward = await p.queues['reward-handoff'].getJob(rows['reward-handoff']!);
    expect(await reward!.isCompleted()).toBe(true);
    expect(reward!.finishedOn!).toBeLessThanOrEqual(audit.finishedOn!);

    // Audited once, after both jobs: the handoff verified, not "no result yet".
    const result = audit.returnvalue as AuditJobResult;
    const stored = await pool.query<{ trigger: string; findings: { check: string; status: string }[] }>('SELECT trigger, findings FROM audits WHERE run_session_id = $1', [sessionId]);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]!.trigger).toBe('pipeline');
    expect(stored.rows[0]!.findings.filter((f) => f.check === 'pipeline.reward')).toEqual([expect.objectContaining({ status: 'ok' })]);
    expect(result.findings).toBe(stored.rows[0]!.findings.length);
  }, 60_000);
});
