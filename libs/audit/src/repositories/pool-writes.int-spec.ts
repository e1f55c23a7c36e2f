import { randomUUID } from 'node:crypto';
import { PrismaService } from '@rewind/db';
import { OutboxRepository } from '@rewind/event-store';
import { createMigratedScratchDatabase, ScratchDatabase } from '@rewind/testing';
import type { Finding } from '@rewind/platforms';
import { AuditsRepository } from './audits.repository';
import { RunSummariesRepository } from './run-summaries.repository';
import type { RunSummary } from '../types';

/**
 * The audit's per-run writes and its outbox read run on the pool (measured exceptions, docs/data-layer.md): what they
 * store and return must be what Prisma's `create` / `upsert` / `findMany` stored and returned, read back through Prisma.
 */
describe('the audit repositories on the pool write and read what Prisma did (real Postgres)', () => {
  let db: ScratchDatabase;
  let prisma: PrismaService;

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    prisma = PrismaService.of(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const summary = (runKey: string, overrides: Partial<RunSummary> = {}): RunSummary => ({
    runKey,
    platform: 'moltstation',
    game: 'shellrunners',
    agent: 'bot "1"',
    source: 'agent_api',
    platformSessionId: 'ps-1',
    runSessionId: randomUUID(),
    streams: 2,
    startedAt: new Date('2026-11-23T10:00:00.123Z'),
    endedAt: new Date('2026-11-23T10:01:00.456Z'),
    durationMs: 60_333.5,
    score: 120,
    livesLost: 1,
    inputs: 300,
    inputsPerMinute: 298.34,
    reactionP50Ms: 12.5,
    reactionP95Ms: 40.125,
    gaps: 0,
    snapshotStatus: 'submitted',
    rewardStatus: 'handed-off',
    extra: { credits: 12, note: 'tab\there', none: null },
    ...overrides,
  });

  it('given an audit, when added, then Prisma reads back the row it returned, findings deep-equal', async () => {
    const audits = new AuditsRepository(prisma);
    const run = { runKey: `moltstation:${randomUUID()}`, platform: 'moltstation' as const, runSessionId: randomUUID() };
    const findings: Finding[] = [
      { check: 'chain', status: 'ok', detail: 'every chain verifies', at: { sessionId: run.runSessionId, seq: 3 } },
      { check: 'moltstation.score', status: 'mismatch', subject: 'run "x"', expected: { score: 10, nested: [1, null, 'a\\b'] }, found: 9, detail: 'the detail says 10' },
    ];
    const before = Date.now();
    const added = await audits.add(run, { runKey: run.runKey, status: 'mismatch', findings }, 'pipeline');
    const row = await prisma.audit.findUnique({ where: { id: added.id } });
    expect(row).toEqual({ id: added.id, runKey: run.runKey, platform: 'moltstation', runSessionId: run.runSessionId, auditedAt: added.auditedAt, trigger: 'pipeline', status: 'mismatch', findings });
    expect(added.auditedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
    expect(await audits.latest(run.runKey)).toEqual(added);
    // A run without a run session id (a platform whose runs have no stream of their own).
    const bare = await audits.add({ runKey: 'rgs:x', platform: 'rgs', runSessionId: null }, { runKey: 'rgs:x', status: 'ok', findings: [] }, 'on-demand');
    expect(await prisma.audit.findUnique({ where: { id: bare.id } })).toMatchObject({ runSessionId: null, platform: 'rgs', trigger: 'on-demand', findings: [] });
  });

  it('given a run summary, when saved, saved again by a rebuild (no audit status) and after a new audit, then the row follows and the audit status is kept by the rebuild', async () => {
    const summaries = new RunSummariesRepository(prisma);
    const runKey = `moltstation:${randomUUID()}`;
    const first = summary(runKey);
    await summaries.save(first, 'ok');
    const { runKey: _key, ...fields } = first;
    expect(await prisma.runSummary.findUnique({ where: { runKey } })).toMatchObject({ runKey, ...fields, auditStatus: 'ok' });
    // A rebuild: new figures, nulls where the run no longer says, the audit status stays.
    const rebuilt = summary(runKey, { score: null, livesLost: null, agent: null, inputs: 301, extra: {}, rewardStatus: 'dead-letter' });
    await summaries.save(rebuilt, null);
    const { runKey: _k2, ...rebuiltFields } = rebuilt;
    const row = await prisma.runSummary.findUnique({ where: { runKey } });
    expect(row).toMatchObject({ ...rebuiltFields, auditStatus: 'ok' });
    expect(row?.extra).toEqual({});
    await summaries.save(rebuilt, 'mismatch');
    expect((await prisma.runSummary.findUnique({ where: { runKey } }))?.auditStatus).toBe('mismatch');
    // A first save without an audit status leaves it null.
    const other = `rgs:${randomUUID()}`;
    await summaries.save(summary(other, { platform: 'rgs', runSessionId: null, startedAt: null, endedAt: null, durationMs: null }), null);
    expect(await prisma.runSummary.findUnique({ where: { runKey: other } })).toMatchObject({ platform: 'rgs', runSessionId: null, startedAt: null, auditStatus: null });
  });

  it('given outbox rows of two sessions and another, when a run reads its own, then it gets what Prisma findMany gives, oldest first', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const [sessionId, queue] of [
      [a, 'snapshot-submission'],
      [b, 'reward-handoff'],
      [a, 'run-audit'],
      [c, 'reward-handoff'],
    ] as const) {
      await db.pool.query(`INSERT INTO outbox (session_id, queue, job_name, payload, dedupe_key) VALUES ($1, $2, 'job', $3::jsonb, $4)`, [
        sessionId,
        queue,
        JSON.stringify({ sessionId, outcome: { score: 1, text: 'q"uote' } }),
        `${queue}:${sessionId}`,
      ]);
    }
    await db.pool.query(`UPDATE outbox SET relayed_at = now() WHERE session_id = $1`, [b]);
    const viaPool = await new OutboxRepository(prisma).ofSessions([a, b]);
    const viaPrisma = await prisma.outboxMessage.findMany({
      where: { sessionId: { in: [a, b] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true, queue: true, sessionId: true, payload: true, createdAt: true, relayedAt: true },
    });
    expect(viaPool).toHaveLength(3);
    expect(viaPool).toEqual(viaPrisma);
    expect(viaPool.find((r) => r.sessionId === b)?.relayedAt).toBeInstanceOf(Date);
    expect(await new OutboxRepository(prisma).ofSessions([])).toEqual([]);
  });
});
