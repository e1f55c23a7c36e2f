import { Db, PrismaService } from '@rewind/db';
import type { EventStore } from '@rewind/event-store';
import { auditRun, pipelinePending } from './audit';
import { jsonObject } from './json';
import { findRun, jobNotStarted, listRunAnchors, loadPipelineEvidence, loadRunEvidence } from './load';
import { summarizeRun } from './summary/summarize';
import { rewindMetrics } from '@rewind/observability';
import { AuditsRepository, StoredAudit } from './repositories/audits.repository';
import { RunSummariesRepository } from './repositories/run-summaries.repository';
import type { AuditStatus, RewardReceipt, RunEvidence } from './types';

export type { StoredAudit } from './repositories/audits.repository';

export interface AuditServiceOptions {
  /**
   * Where a handoff receipt can be read back (`GET {url}/{receiptId}`): the rewards endpoint's base, e.g.
   * REWIND_REWARDS_URL. Unset: receipts are not asked for (no `pipeline.reward-receipt` findings).
   */
  rewardsUrl?: string;
  rewardsApiKey?: string;
  /** Time limit of one receipt question (default 3 s). */
  receiptTimeoutMs?: number;
}

export interface AuditAllSummary {
  runs: number;
  byStatus: Record<AuditStatus, number>;
}

/**
 * Audits runs from the store and keeps the results: one `audits` row per audit (history; the newest is
 * served) and the run's analytics row in `run_summaries` (with the audit's status).
 */
export class AuditService {
  private readonly prisma: PrismaService;
  private readonly audits: AuditsRepository;
  private readonly summaries: RunSummariesRepository;

  /** `db`: the process's PrismaService, or a `pg` pool it borrows (older call sites). */
  constructor(
    db: Db,
    private readonly store: EventStore,
    private readonly options: AuditServiceOptions = {},
  ) {
    this.prisma = PrismaService.of(db);
    this.audits = new AuditsRepository(this.prisma);
    this.summaries = new RunSummariesRepository(this.prisma);
  }

  /**
   * Audits the run `sessionId` belongs to and stores the result; null when it is no run. With
   * `waitForPipeline`, resolves 'pending' instead while the run's snapshot/handoff jobs have not finished.
   */
  async auditSession(sessionId: string, trigger: StoredAudit['trigger'], waitForPipeline = false): Promise<StoredAudit | 'pending' | null> {
    const members = await findRun(this.prisma, sessionId);
    if (!members) return null;
    // While it waits, only the job streams are read (a few events): the run's own streams once, when it audits.
    let jobStreams: RunEvidence['streams'] | undefined;
    if (waitForPipeline) {
      // A snapshot or handoff job that has not started yet (no job stream) is pending whatever the others hold.
      if (jobNotStarted(members)) return 'pending';
      const jobs = await loadPipelineEvidence(this.prisma, this.store, members);
      if (pipelinePending(jobs)) return 'pending';
      jobStreams = jobs.streams;
    }
    const run = await loadRunEvidence(this.prisma, this.store, sessionId, members, jobStreams);
    if (!run) return null;
    run.receipts = await this.receipts(run);
    const result = auditRun(run);
    const stored = await this.audits.add(run, result, trigger);
    rewindMetrics.audits.labels(result.status).inc();
    await this.summaries.save(summarizeRun(run), result.status);
    return stored;
  }

  /** Audits every run (oldest first); `onRun` sees each result. */
  async auditAll(trigger: StoredAudit['trigger'] = 'on-demand', onRun?: (a: StoredAudit) => void): Promise<AuditAllSummary> {
    const byStatus: Record<AuditStatus, number> = { ok: 0, mismatch: 0, unverifiable: 0 };
    let runs = 0;
    for (const id of await listRunAnchors(this.prisma)) {
      const a = await this.auditSession(id, trigger);
      if (!a || a === 'pending') continue;
      runs++;
      byStatus[a.status]++;
      onRun?.(a);
    }
    return { runs, byStatus };
  }

  /** The newest stored audit of the run `sessionId` belongs to (null: no run, or never audited). */
  async latest(sessionId: string): Promise<StoredAudit | null> {
    const run = await findRun(this.prisma, sessionId);
    if (!run) return null;
    return this.audits.latest(run.runKey);
  }

  /** Rebuilds `run_summaries` from the events of every run (keeping each run's latest audit status). */
  async rebuildSummaries(): Promise<number> {
    let n = 0;
    for (const id of await listRunAnchors(this.prisma)) {
      const run = await loadRunEvidence(this.prisma, this.store, id);
      if (!run) continue;
      await this.summaries.save(summarizeRun(run), await this.audits.latestStatus(run.runKey));
      n++;
    }
    return n;
  }

  /** Reads back each handoff receipt from the rewards pipeline (when configured). */
  private async receipts(run: RunEvidence): Promise<RewardReceipt[] | undefined> {
    const base = this.options.rewardsUrl?.replace(/\/+$/, '');
    if (!base) return undefined;
    const ids = new Set<string>();
    for (const s of run.streams.filter((x) => x.role === 'reward-handoff'))
      for (const e of s.events)
        if (e.kind === 'marker' && e.msgType === 'result') {
          const id = jsonObject(e)?.['receiptId'];
          if (typeof id === 'string') ids.add(id);
        }
    const out: RewardReceipt[] = [];
    for (const id of ids) {
      try {
        const res = await fetch(`${base}/${encodeURIComponent(id)}`, {
          headers: this.options.rewardsApiKey ? { authorization: `Bearer ${this.options.rewardsApiKey}` } : {},
          signal: AbortSignal.timeout(this.options.receiptTimeoutMs ?? 3000),
        });
        if (!res.ok) {
          out.push({ receiptId: id, body: null, error: `GET answered ${res.status}` });
          continue;
        }
        const json = (await res.json()) as { body?: unknown };
        out.push({ receiptId: id, body: json.body ?? null, ...(json.body === undefined ? { error: 'the answer has no body field' } : {}) });
      } catch (e) {
        out.push({ receiptId: id, body: null, error: (e as Error).message });
      }
    }
    return out;
  }
}
