import { Injectable } from '@nestjs/common';
import { Db, Prisma, PrismaService, RunSummaryModel } from '@rewind/db';
import type { AuditStatus, RunEvidence } from '../types';

/** The filters of the analytics endpoints (validated at the API's edge). */
export interface RunFilters {
  platform?: RunEvidence['platform'];
  game?: string;
  agent?: string;
  auditStatus?: AuditStatus;
  /** Started at or after. */
  from?: Date;
  /** Started before. */
  to?: Date;
}

export const RUN_GROUPS = ['game', 'agent', 'day', 'platform'] as const;
export type RunGroup = (typeof RUN_GROUPS)[number];

/** The grouping expressions: fixed SQL chosen by a validated name, never text from a request. */
const GROUP_SQL: Record<RunGroup, Prisma.Sql> = {
  game: Prisma.raw('game'),
  agent: Prisma.raw('agent'),
  platform: Prisma.raw('platform::text'),
  day: Prisma.raw(`to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`),
};

/** One group of runs and its aggregates. */
export interface RunGroupRow {
  key: string | null;
  runs: number;
  avgScore: number | null;
  maxScore: number | null;
  avgDurationMs: number | null;
  totalInputs: number | null;
  avgInputsPerMinute: number | null;
  avgReactionP50Ms: number | null;
  gaps: number | null;
  livesLost: number | null;
  ok: number;
  mismatch: number;
  unverifiable: number;
  none: number;
}

/**
 * The analytics reads of `run_summaries`: the filtered list as a typed model query, the grouped aggregates
 * through `$queryRaw` (a computed day key and per-status FILTER counts are beyond Prisma's `groupBy`).
 */
@Injectable()
export class AnalyticsRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /** Runs, newest first (never-started last), at most `take`. */
  async runs(f: RunFilters, take: number): Promise<RunSummaryModel[]> {
    return this.prisma.runSummary.findMany({
      where: {
        ...(f.platform ? { platform: f.platform } : {}),
        ...(f.game !== undefined ? { game: f.game } : {}),
        ...(f.agent !== undefined ? { agent: f.agent } : {}),
        ...(f.auditStatus ? { auditStatus: f.auditStatus } : {}),
        ...(f.from || f.to ? { startedAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
      },
      orderBy: [{ startedAt: { sort: 'desc', nulls: 'last' } }, { runKey: 'asc' }],
      take,
    });
  }

  /** Aggregates per group, ordered by key (no key last). */
  async groups(groupBy: RunGroup, f: RunFilters): Promise<RunGroupRow[]> {
    const conditions: Prisma.Sql[] = [];
    if (f.platform) conditions.push(Prisma.sql`platform = ${f.platform}::"Platform"`);
    if (f.game !== undefined) conditions.push(Prisma.sql`game = ${f.game}`);
    if (f.agent !== undefined) conditions.push(Prisma.sql`agent = ${f.agent}`);
    if (f.auditStatus) conditions.push(Prisma.sql`audit_status = ${f.auditStatus}`);
    if (f.from) conditions.push(Prisma.sql`started_at >= ${f.from}`);
    if (f.to) conditions.push(Prisma.sql`started_at < ${f.to}`);
    const where = conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
    return this.prisma.$queryRaw<RunGroupRow[]>(Prisma.sql`
      SELECT ${GROUP_SQL[groupBy]} AS key, count(*)::int AS runs, avg(score) AS "avgScore", max(score) AS "maxScore", avg(duration_ms) AS "avgDurationMs",
             sum(inputs)::int AS "totalInputs", avg(inputs_per_minute) AS "avgInputsPerMinute", avg(reaction_p50_ms) AS "avgReactionP50Ms",
             sum(gaps)::int AS gaps, sum(lives_lost)::int AS "livesLost",
             count(*) FILTER (WHERE audit_status = 'ok')::int AS ok, count(*) FILTER (WHERE audit_status = 'mismatch')::int AS mismatch,
             count(*) FILTER (WHERE audit_status = 'unverifiable')::int AS unverifiable, count(*) FILTER (WHERE audit_status IS NULL)::int AS none
        FROM run_summaries ${where} GROUP BY 1 ORDER BY 1 NULLS LAST`);
  }
}
