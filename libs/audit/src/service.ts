import type { Pool } from 'pg';
import type { EventStore } from '@rewind/event-store';
import { AuditResult, auditRun, pipelinePending } from './audit';
import { jsonObject } from './json';
import { listRunAnchors, loadRunEvidence, findRun } from './load';
import { summarizeRun } from './summary/summarize';
import type { AuditStatus, Finding, RewardReceipt, RunEvidence, RunSummary } from './types';

export interface StoredAudit extends AuditResult {
  id: string;
  platform: RunEvidence['platform'];
  runSessionId: string | null;
  auditedAt: Date;
  trigger: 'pipeline' | 'on-demand';
}

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
  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly options: AuditServiceOptions = {},
  ) {}

  /**
   * Audits the run `sessionId` belongs to and stores the result; null when it is no run. With
   * `waitForPipeline`, resolves 'pending' instead while the run's snapshot/handoff jobs have not finished.
   */
  async auditSession(sessionId: string, trigger: StoredAudit['trigger'], waitForPipeline = false): Promise<StoredAudit | 'pending' | null> {
    const run = await loadRunEvidence(this.pool, this.store, sessionId);
    if (!run) return null;
    if (waitForPipeline && pipelinePending(run)) return 'pending';
    run.receipts = await this.receipts(run);
    const result = auditRun(run);
    const { rows } = await this.pool.query<{ id: string; audited_at: Date }>(
      'INSERT INTO audits (run_key, platform, run_session_id, trigger, status, findings) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, audited_at',
      [run.runKey, run.platform, run.runSessionId, trigger, result.status, JSON.stringify(result.findings)],
    );
    await this.saveSummary(summarizeRun(run), result.status);
    const row = rows[0] as { id: string; audited_at: Date };
    return { ...result, id: row.id, platform: run.platform, runSessionId: run.runSessionId, auditedAt: row.audited_at, trigger };
  }

  /** Audits every run (oldest first); `onRun` sees each result. */
  async auditAll(trigger: StoredAudit['trigger'] = 'on-demand', onRun?: (a: StoredAudit) => void): Promise<AuditAllSummary> {
    const byStatus: Record<AuditStatus, number> = { ok: 0, mismatch: 0, unverifiable: 0 };
    let runs = 0;
    for (const id of await listRunAnchors(this.pool)) {
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
    const run = await findRun(this.pool, sessionId);
    if (!run) return null;
    const { rows } = await this.pool.query<{ id: string; run_key: string; platform: RunEvidence['platform']; run_session_id: string | null; audited_at: Date; trigger: StoredAudit['trigger']; status: AuditStatus; findings: Finding[] }>(
      'SELECT * FROM audits WHERE run_key = $1 ORDER BY audited_at DESC, id DESC LIMIT 1',
      [run.runKey],
    );
    const r = rows[0];
    return r ? { id: r.id, runKey: r.run_key, platform: r.platform, runSessionId: r.run_session_id, auditedAt: r.audited_at, trigger: r.trigger, status: r.status, findings: r.findings } : null;
  }

  /** Rebuilds `run_summaries` from the events of every run (keeping each run's latest audit status). */
  async rebuildSummaries(): Promise<number> {
    let n = 0;
    for (const id of await listRunAnchors(this.pool)) {
      const run = await loadRunEvidence(this.pool, this.store, id);
      if (!run) continue;
      const { rows } = await this.pool.query<{ status: AuditStatus }>('SELECT status FROM audits WHERE run_key = $1 ORDER BY audited_at DESC, id DESC LIMIT 1', [run.runKey]);
      await this.saveSummary(summarizeRun(run), rows[0]?.status ?? null);
      n++;
    }
    return n;
  }

  private async saveSummary(s: RunSummary, auditStatus: AuditStatus | null): Promise<void> {
    await this.pool.query(
      `INSERT INTO run_summaries (run_key, platform, game, agent, source, platform_session_id, run_session_id, streams, started_at, ended_at,
         duration_ms, score, lives_lost, inputs, inputs_per_minute, reaction_p50_ms, reaction_p95_ms, gaps, snapshot_status, reward_status,
         audit_status, extra, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, now())
       ON CONFLICT (run_key) DO UPDATE SET platform = EXCLUDED.platform, game = EXCLUDED.game, agent = EXCLUDED.agent, source = EXCLUDED.source,
         platform_session_id = EXCLUDED.platform_session_id, run_session_id = EXCLUDED.run_session_id, streams = EXCLUDED.streams,
         started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, duration_ms = EXCLUDED.duration_ms, score = EXCLUDED.score,
         lives_lost = EXCLUDED.lives_lost, inputs = EXCLUDED.inputs, inputs_per_minute = EXCLUDED.inputs_per_minute,
         reaction_p50_ms = EXCLUDED.reaction_p50_ms, reaction_p95_ms = EXCLUDED.reaction_p95_ms, gaps = EXCLUDED.gaps,
         snapshot_status = EXCLUDED.snapshot_status, reward_status = EXCLUDED.reward_status,
         audit_status = COALESCE(EXCLUDED.audit_status, run_summaries.audit_status), extra = EXCLUDED.extra, updated_at = now()`,
      [
        s.runKey, s.platform, s.game, s.agent, s.source, s.platformSessionId, s.runSessionId, s.streams, s.startedAt, s.endedAt,
        s.durationMs, s.score, s.livesLost, s.inputs, s.inputsPerMinute, s.reactionP50Ms, s.reactionP95Ms, s.gaps, s.snapshotStatus, s.rewardStatus,
        auditStatus, JSON.stringify(s.extra),
      ],
    );
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
