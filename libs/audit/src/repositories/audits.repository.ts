import { Injectable } from '@nestjs/common';
import { AuditModel, Db, Prisma, PrismaService } from '@rewind/db';
import type { AuditResult } from '../audit';
import type { AuditStatus, Finding, RunEvidence } from '../types';

/** One stored audit of one run (a row of `audits`). */
export interface StoredAudit extends AuditResult {
  id: string;
  platform: RunEvidence['platform'];
  runSessionId: string | null;
  auditedAt: Date;
  trigger: 'pipeline' | 'on-demand';
}

const NEWEST_FIRST: Prisma.AuditOrderByWithRelationInput[] = [{ auditedAt: 'desc' }, { id: 'desc' }];

const storedAudit = (r: AuditModel): StoredAudit => ({
  id: r.id,
  runKey: r.runKey,
  platform: r.platform,
  runSessionId: r.runSessionId,
  auditedAt: r.auditedAt,
  trigger: r.trigger as StoredAudit['trigger'],
  status: r.status as AuditStatus,
  findings: r.findings as unknown as Finding[],
});

/** The `audits` aggregate: one row per audit of a run, kept as history (the newest is served). */
@Injectable()
export class AuditsRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /**
   * Stores one audit. On the PrismaService's `pg` pool, a named statement: once per ended run in the pipeline, and
   * Prisma's `create` measured 7× the CPU of this INSERT (660–780 vs ~95 µs per call with a run's dozen findings,
   * libs/audit/bench/prisma-writes.ts; docs/data-layer.md). The row is the one `create` wrote (its `audited_at` the
   * database's `now()`, the column's default).
   */
  async add(run: Pick<RunEvidence, 'runKey' | 'platform' | 'runSessionId'>, result: AuditResult, trigger: StoredAudit['trigger']): Promise<StoredAudit> {
    const { rows } = await this.prisma.pool.query<{ id: string; audited_at: Date }>({
      name: 'rewind-audit-add',
      text: `INSERT INTO audits (run_key, platform, run_session_id, trigger, status, findings) VALUES ($1, $2::"Platform", $3::uuid, $4, $5, $6::jsonb) RETURNING id, audited_at`,
      values: [run.runKey, run.platform, run.runSessionId, trigger, result.status, JSON.stringify(result.findings)],
    });
    const row = rows[0] as { id: string; audited_at: Date };
    return { ...result, id: row.id, platform: run.platform, runSessionId: run.runSessionId, auditedAt: row.audited_at, trigger };
  }

  /** The newest audit of a run, or null. */
  async latest(runKey: string): Promise<StoredAudit | null> {
    const r = await this.prisma.audit.findFirst({ where: { runKey }, orderBy: NEWEST_FIRST });
    return r ? storedAudit(r) : null;
  }

  /** The status of the newest audit of a run, or null (never audited). */
  async latestStatus(runKey: string): Promise<AuditStatus | null> {
    const r = await this.prisma.audit.findFirst({ where: { runKey }, orderBy: NEWEST_FIRST, select: { status: true } });
    return (r?.status as AuditStatus | undefined) ?? null;
  }
}
