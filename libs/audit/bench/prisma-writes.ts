/**
 * The CPU of the audit's per-run Prisma calls (docs/pipeline.md, "What an audit costs on Postgres"): the outbox
 * rows of a run (`OutboxRepository.ofSessions`), the `audits` row (`AuditsRepository.add`) and the `run_summaries`
 * row (`RunSummariesRepository.save`), each against the same SQL on the pool.
 *
 *   node -r ./scripts/register.js libs/audit/bench/prisma-writes.ts postgresql://user@host:port/scratch_db [calls]
 *
 * Give it an empty, migrated scratch database. Prints µs of process CPU (user + system) per call, median of 3
 * rounds after a warm-up, one call at a time.
 */
import { randomUUID } from 'node:crypto';
import { Prisma, PrismaService } from '@rewind/db';
import { OutboxRepository } from '@rewind/event-store';
import type { Finding } from '@rewind/platforms';
import { AuditsRepository } from '../src/repositories/audits.repository';
import { RunSummariesRepository } from '../src/repositories/run-summaries.repository';
import type { RunSummary } from '../src/types';

async function cpuPerCall(calls: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await call(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / calls;
}

async function main(): Promise<void> {
  const [url, callsArg] = process.argv.slice(2);
  if (!url) throw new Error('usage: prisma-writes.ts <scratch database url> [calls]');
  const calls = Number(callsArg ?? 1000);
  const prisma = new PrismaService(url);
  await prisma.$connect();
  const pool = prisma.pool;
  const audits = new AuditsRepository(prisma);
  const summaries = new RunSummariesRepository(prisma);
  const outbox = new OutboxRepository(prisma);
  // A MoltStation run's audit: a dozen findings, a few with values.
  const findings: Finding[] = Array.from({ length: 12 }, (_, i) => ({
    check: `moltstation.check-${i}`,
    status: 'ok',
    subject: randomUUID(),
    ...(i % 3 === 0 ? { expected: { score: i * 10, lives: 3 }, found: { score: i * 10, lives: 3 } } : {}),
    detail: `the recorded frames agree with the platform's detail on check ${i}`,
    at: { sessionId: randomUUID(), seq: i * 7 },
  }));
  const run = { runKey: `moltstation:${randomUUID()}`, platform: 'moltstation' as const, runSessionId: randomUUID() };
  const summary = (runKey: string): RunSummary => ({
    runKey,
    platform: 'moltstation',
    game: 'shellrunners',
    agent: 'bot-1',
    source: 'agent_api',
    platformSessionId: 'ps-1',
    runSessionId: run.runSessionId,
    streams: 2,
    startedAt: new Date(),
    endedAt: new Date(),
    durationMs: 30_000,
    score: 120,
    livesLost: 1,
    inputs: 300,
    inputsPerMinute: 600,
    reactionP50Ms: 12.5,
    reactionP95Ms: 40.1,
    gaps: 0,
    snapshotStatus: 'submitted',
    rewardStatus: 'handed-off',
    extra: { credits: 12, rounds: 3 },
  });
  const sessionIds = [randomUUID(), randomUUID()];
  await pool.query(`INSERT INTO outbox (session_id, queue, job_name, payload, dedupe_key) SELECT s, q, 'job', $3::jsonb, s::text || q FROM unnest($1::uuid[]) s, unnest($2::text[]) q`, [
    sessionIds,
    ['snapshot-submission', 'reward-handoff', 'run-audit'],
    JSON.stringify({ sessionId: sessionIds[0], platform: 'moltstation', game: 'shellrunners', outcome: { score: 120 } }),
  ]);
  // Each way on Prisma (what the repositories did before issue 18's third pass) against the repository's pool path.
  const ways: [string, (i: number) => Promise<unknown>][] = [
    [
      'outbox of a run: Prisma findMany',
      () =>
        prisma.outboxMessage.findMany({
          where: { sessionId: { in: sessionIds } },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: { id: true, queue: true, sessionId: true, payload: true, createdAt: true, relayedAt: true },
        }),
    ],
    ['outbox of a run: pool (OutboxRepository.ofSessions)', () => outbox.ofSessions(sessionIds)],
    [
      'audits row: Prisma create',
      () =>
        prisma.audit.create({
          data: { runKey: run.runKey, platform: run.platform, runSessionId: run.runSessionId, trigger: 'pipeline', status: 'ok', findings: findings as unknown as Prisma.InputJsonArray },
          select: { id: true, auditedAt: true },
        }),
    ],
    ['audits row: pool (AuditsRepository.add)', () => audits.add(run, { runKey: run.runKey, status: 'ok', findings }, 'pipeline')],
    [
      'run_summaries row: Prisma upsert',
      (i) => {
        const { runKey, ...data } = summary(`${run.runKey}:${i % 50}`);
        const row = { ...data, extra: data.extra as Prisma.InputJsonObject, updatedAt: new Date() };
        return prisma.runSummary.upsert({ where: { runKey }, create: { runKey, ...row, auditStatus: 'ok' }, update: { ...row, auditStatus: 'ok' } });
      },
    ],
    [
      'run_summaries row: Prisma upsert, select: { runKey }',
      (i) => {
        const { runKey, ...data } = summary(`${run.runKey}:${i % 50}`);
        const row = { ...data, extra: data.extra as Prisma.InputJsonObject, updatedAt: new Date() };
        return prisma.runSummary.upsert({ where: { runKey }, create: { runKey, ...row, auditStatus: 'ok' }, update: { ...row, auditStatus: 'ok' }, select: { runKey: true } });
      },
    ],
    ['run_summaries row: pool (RunSummariesRepository.save)', (i) => summaries.save(summary(`${run.runKey}:${i % 50}`), 'ok')],
  ];
  for (const [, call] of ways) await cpuPerCall(100, call);
  const results = new Map<string, number[]>();
  for (let round = 0; round < 3; round++) for (const [name, call] of ways) results.set(name, [...(results.get(name) ?? []), await cpuPerCall(calls, call)]);
  console.log(`${calls} calls per way, one at a time, median of 3 rounds (µs of process CPU per call):`);
  for (const [name, r] of results) console.log(`  ${name.padEnd(66)} ${(r.sort((a, b) => a - b)[1] as number).toFixed(1).padStart(7)}   [${r.map((x) => x.toFixed(0)).join(', ')}]`);
  await prisma.$disconnect();
  await pool.end();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
