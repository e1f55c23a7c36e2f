import { Injectable } from '@nestjs/common';
import { Db, PrismaService } from '@rewind/db';
import type { AuditStatus, RunSummary } from '../types';

const SAVE = `INSERT INTO run_summaries AS r (run_key, platform, game, agent, source, platform_session_id, run_session_id, streams, started_at, ended_at,
       duration_ms, score, lives_lost, inputs, inputs_per_minute, reaction_p50_ms, reaction_p95_ms, gaps, snapshot_status, reward_status, audit_status, extra, updated_at)
  VALUES ($1, $2::"Platform", $3, $4, $5, $6, $7::uuid, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22::jsonb, $23)
  ON CONFLICT (run_key) DO UPDATE SET platform = EXCLUDED.platform, game = EXCLUDED.game, agent = EXCLUDED.agent, source = EXCLUDED.source,
       platform_session_id = EXCLUDED.platform_session_id, run_session_id = EXCLUDED.run_session_id, streams = EXCLUDED.streams,
       started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, duration_ms = EXCLUDED.duration_ms, score = EXCLUDED.score,
       lives_lost = EXCLUDED.lives_lost, inputs = EXCLUDED.inputs, inputs_per_minute = EXCLUDED.inputs_per_minute,
       reaction_p50_ms = EXCLUDED.reaction_p50_ms, reaction_p95_ms = EXCLUDED.reaction_p95_ms, gaps = EXCLUDED.gaps,
       snapshot_status = EXCLUDED.snapshot_status, reward_status = EXCLUDED.reward_status,
       audit_status = COALESCE(EXCLUDED.audit_status, r.audit_status), extra = EXCLUDED.extra, updated_at = EXCLUDED.updated_at`;

/** The `run_summaries` projection's writes: one row per run, replaced whenever the run is summarized again. */
@Injectable()
export class RunSummariesRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /**
   * Inserts or replaces the run's row; a null `auditStatus` keeps the status already stored (a rebuild does not
   * forget audits). On the PrismaService's `pg` pool, a named statement: once per ended run in the pipeline, and
   * Prisma's `upsert` measured ~12× the CPU of this INSERT … ON CONFLICT (about 1,000 vs 86 µs per call,
   * libs/audit/bench/prisma-writes.ts; docs/data-layer.md). The same row as the `upsert` wrote.
   */
  async save(s: RunSummary, auditStatus: AuditStatus | null): Promise<void> {
    await this.prisma.pool.query({
      name: 'rewind-run-summary-save',
      text: SAVE,
      values: [
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
        auditStatus,
        JSON.stringify(s.extra),
        new Date(),
      ],
    });
  }
}
