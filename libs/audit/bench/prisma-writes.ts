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
  const ways: [string, (i: number) => Promise<unknown>][] = [
    ['outbox of a run: Prisma findMany (OutboxRepository.ofSessions)', () => outbox.ofSessions(sessionIds)],
    [
      'outbox of a run: pool SELECT',
      () => pool.query(`SELECT id::text, queue, session_id, payload, created_at, relayed_at FROM outbox WHERE session_id = ANY($1::uuid[]) ORDER BY created_at, id`, [sessionIds]),
    ],
    ['audits row: Prisma create (AuditsRepository.add)', () => audits.add(run, { runKey: run.runKey, status: 'ok', findings }, 'pipeline')],
    [
      'audits row: pool INSERT … RETURNING',
      () =>
        pool.query(`INSERT INTO audits (run_key, platform, run_session_id, trigger, status, findings) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, audited_at`, [
          run.runKey,
          run.platform,
          run.runSessionId,
          'pipeline',
          'ok',
          JSON.stringify(findings),
        ]),
    ],
    ['run_summaries row: Prisma upsert (RunSummariesRepository.save)', (i) => summaries.save(summary(`${run.runKey}:${i % 50}`), 'ok')],
    [
      'run_summaries row: Prisma upsert, select: { runKey }',
      (i) => {
        const { runKey, ...data } = summary(`${run.runKey}:${i % 50}`);
        const row = { ...data, extra: data.extra as Prisma.InputJsonObject, updatedAt: new Date() };
        return prisma.runSummary.upsert({ where: { runKey }, create: { runKey, ...row, auditStatus: 'ok' }, update: { ...row, auditStatus: 'ok' }, select: { runKey: true } });
      },
    ],
    [
      'run_summaries row: pool INSERT … ON CONFLICT DO UPDATE',
      (i) => {
        const s = summary(`${run.runKey}:${i % 50}`);
        return pool.query(
          `INSERT INTO run_summaries (run_key, platform, game, agent, source, platform_session_id, run_session_id, streams, started_at, ended_at, duration_ms, score, lives_lost,
                  inputs, inputs_per_minute, reaction_p50_ms, reaction_p95_ms, gaps, snapshot_status, reward_status, audit_status, extra, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, now())
           ON CONFLICT (run_key) DO UPDATE SET platform = EXCLUDED.platform, game = EXCLUDED.game, agent = EXCLUDED.agent, source = EXCLUDED.source,
             platform_session_id = EXCLUDED.platform_session_id, run_session_id = EXCLUDED.run_session_id, streams = EXCLUDED.streams, started_at = EXCLUDED.started_at,
             ended_at = EXCLUDED.ended_at, duration_ms = EXCLUDED.duration_ms, score = EXCLUDED.score, lives_lost = EXCLUDED.lives_lost, inputs = EXCLUDED.inputs,
             inputs_per_minute = EXCLUDED.inputs_per_minute, reaction_p50_ms = EXCLUDED.reaction_p50_ms, reaction_p95_ms = EXCLUDED.reaction_p95_ms, gaps = EXCLUDED.gaps,
             snapshot_status = EXCLUDED.snapshot_status, reward_status = EXCLUDED.reward_status, audit_status = COALESCE(EXCLUDED.audit_status, run_summaries.audit_status),
             extra = EXCLUDED.extra, updated_at = EXCLUDED.updated_at`,
          [
            s.runKey,
            s.platform,
            s.game,
            s.agent,
            s.source,
            s.platformSessionId,
            s.runSessionId,
            s.streams,
            s.startedAt,
            s.endedAt,
            s.durationMs,
            s.score,
            s.livesLost,
            s.inputs,
            s.inputsPerMinute,
            s.reactionP50Ms,
            s.reactionP95Ms,
            s.gaps,
            s.snapshotStatus,
            s.rewardStatus,
            'ok',
            JSON.stringify(s.extra),
          ],
        );
      },
    ],
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
