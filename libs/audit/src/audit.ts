import { auditChains, auditOutbox, auditRewardHandoff, auditSnapshotStored, auditStoredOutcomes } from './common';
import { platformOf } from '@rewind/platforms';
import { AuditStatus, auditStatus, Finding, RunEvidence } from './types';

export interface AuditResult {
  runKey: string;
  status: AuditStatus;
  findings: Finding[];
}

/**
 * The whole audit of one run, pure: the chains, the stored and handed-off outcome against the chained
 * one, then the platform's own recomputation (its module's checks, libs/platforms; docs/audit.md lists every check). Mismatches first.
 */
export function auditRun(run: RunEvidence): AuditResult {
  const findings = [...auditChains(run), ...auditStoredOutcomes(run), ...auditOutbox(run), ...auditRewardHandoff(run), ...auditSnapshotStored(run), ...platformOf(run.platform).audit.check(run)];
  const rank = { mismatch: 0, unverifiable: 1, ok: 2 } as const;
  findings.sort((a, b) => rank[a.status] - rank[b.status]);
  return { runKey: run.runKey, status: auditStatus(findings), findings };
}

/** True while the run's pipeline jobs have not finished (no result or dead letter yet): an automatic audit waits. */
export function pipelinePending(run: Pick<RunEvidence, 'streams' | 'outbox'>): boolean {
  if (run.outbox.length === 0) return false;
  const queues = new Set(run.outbox.map((o) => o.queue).filter((q) => q === 'snapshot-submission' || q === 'reward-handoff'));
  for (const q of queues) {
    const jobs = run.streams.filter((s) => s.role === q);
    // Finished = a dead letter, or a result whose stream has been ended (its sessions.outcome written).
    const done = jobs.some((s) => s.events.some((e) => e.kind === 'marker' && (e.msgType === 'dead-letter' || (e.msgType === 'result' && s.status !== 'open'))));
    if (!done) return true;
  }
  return false;
}
