import { Injectable } from '@nestjs/common';
import { Db, Prisma, PrismaService } from '@rewind/db';
import type { AuditStatus, RunSummary } from '../types';

/** The `run_summaries` projection's writes: one row per run, replaced whenever the run is summarized again. */
@Injectable()
export class RunSummariesRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /** Inserts or replaces the run's row; a null `auditStatus` keeps the status already stored (a rebuild does not forget audits). */
  async save(s: RunSummary, auditStatus: AuditStatus | null): Promise<void> {
    const data = {
      platform: s.platform,
      game: s.game,
      agent: s.agent,
      source: s.source,
      platformSessionId: s.platformSessionId,
      runSessionId: s.runSessionId,
      streams: s.streams,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      durationMs: s.durationMs,
      score: s.score,
      livesLost: s.livesLost,
      inputs: s.inputs,
      inputsPerMinute: s.inputsPerMinute,
      reactionP50Ms: s.reactionP50Ms,
      reactionP95Ms: s.reactionP95Ms,
      gaps: s.gaps,
      snapshotStatus: s.snapshotStatus,
      rewardStatus: s.rewardStatus,
      extra: s.extra as Prisma.InputJsonObject,
      updatedAt: new Date(),
    };
    await this.prisma.runSummary.upsert({
      where: { runKey: s.runKey },
      create: { runKey: s.runKey, ...data, auditStatus },
      update: { ...data, ...(auditStatus !== null ? { auditStatus } : {}) },
    });
  }
}
