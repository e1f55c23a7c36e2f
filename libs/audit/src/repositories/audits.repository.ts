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

  async add(run: Pick<RunEvidence, 'runKey' | 'platform' | 'runSessionId'>, result: AuditResult, trigger: StoredAudit['trigger']): Promise<StoredAudit> {
    const row = await this.prisma.audit.create({
      data: { runKey: run.runKey, platform: run.platform, runSessionId: run.runSessionId, trigger, status: result.status, findings: result.findings as unknown as Prisma.InputJsonArray },
      select: { id: true, auditedAt: true },
    });
    return { ...result, id: row.id, platform: run.platform, runSessionId: run.runSessionId, auditedAt: row.auditedAt, trigger };
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
