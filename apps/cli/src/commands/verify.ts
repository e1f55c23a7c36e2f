import { AuditService, listRunAnchors, StoredAudit } from '@rewind/audit';
import { EventStore, verifySession, VerifyReport } from '@rewind/event-store';
import { ParsedArgs, rejectUnknown, UsageError } from '../args';
import { openPool, startRuntime } from '../runtime';

/**
 * rewind verify <sessionId|--all> [--json] [--chains-only]: recomputes hash chains, then audits the run(s)
 * (docs/audit.md) and stores the audits; exits 1 if any link is broken or any audit finds a mismatch.
 */
export async function verifyCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['all', 'json', 'chains-only']);
  const all = args.options.has('all');
  const id = args.positionals[0];
  if (all === (id !== undefined)) throw new UsageError('rewind verify needs a session id or --all (not both)');
  const runtime = await startRuntime({ redis: false });
  const pool = openPool(runtime, 4);
  try {
    const store = new EventStore(pool);
    const ids = all ? await store.listSessionIds() : [id as string];
    const reports: VerifyReport[] = [];
    let failed = 0;
    for (const sessionId of ids) {
      const report = await verifySession(store, sessionId);
      if (!report) {
        if (args.options.has('json')) process.stdout.write(JSON.stringify({ sessionId, ok: false, error: 'not found' }) + '\n');
        else process.stdout.write(`${sessionId}  NOT FOUND\n`);
        failed++;
        continue;
      }
      reports.push(report);
      if (!report.ok) failed++;
      if (args.options.has('json')) process.stdout.write(JSON.stringify(report) + '\n');
      else if (report.ok) {
        process.stdout.write(`${sessionId}  OK      ${report.eventsChecked} events${report.sealed ? ', sealed' : ''}\n`);
      } else {
        const b = report.firstBreak;
        process.stdout.write(`${sessionId}  BROKEN  first broken link at seq ${b?.seq} (${b?.reason}): ${b?.message}\n`);
      }
    }
    if (!args.options.has('json')) {
      process.stdout.write(`${ids.length} session(s) checked, ${ids.length - failed} intact, ${failed} broken or missing\n`);
    }
    if (!args.options.has('chains-only')) {
      const { pipeline } = runtime.config;
      const audits = new AuditService(pool, store, { rewardsUrl: pipeline.rewardsUrl, ...(pipeline.rewardsApiKey ? { rewardsApiKey: pipeline.rewardsApiKey } : {}) });
      const anchors = all ? await listRunAnchors(pool) : [id as string];
      const counts = { ok: 0, mismatch: 0, unverifiable: 0 };
      for (const anchor of anchors) {
        const audit = await audits.auditSession(anchor, 'on-demand');
        if (!audit || audit === 'pending') {
          if (!all)
            process.stdout.write(
              args.options.has('json') ? JSON.stringify({ sessionId: anchor, audit: null, reason: 'not part of a platform run' }) + '\n' : `${anchor}  no run to audit (not part of a platform run)\n`,
            );
          continue;
        }
        counts[audit.status]++;
        if (audit.status === 'mismatch') failed++;
        process.stdout.write(args.options.has('json') ? JSON.stringify({ audit }) + '\n' : describeAudit(audit));
      }
      if (!args.options.has('json'))
        process.stdout.write(
          `${anchors.length === 1 && !all ? 'run' : `${counts.ok + counts.mismatch + counts.unverifiable} run(s)`} audited: ${counts.ok} ok, ${counts.mismatch} mismatch, ${counts.unverifiable} unverifiable\n`,
        );
    }
    return failed === 0 ? 0 : 1;
  } finally {
    await pool.end();
  }
}

/** An audit as lines: the verdict, then each mismatch and unverifiable finding (ok ones counted). */
function describeAudit(a: StoredAudit): string {
  const ok = a.findings.filter((f) => f.status === 'ok').length;
  const lines = [`run ${a.runKey}  audit ${a.status.toUpperCase()}  (${ok} ok of ${a.findings.length} findings)`];
  for (const f of a.findings.filter((x) => x.status !== 'ok')) {
    const at = f.at ? ` [${f.at.sessionId} seq ${f.at.seq}]` : '';
    const diff = f.status === 'mismatch' && (f.expected !== undefined || f.found !== undefined) ? ` — expected ${JSON.stringify(f.expected)}, found ${JSON.stringify(f.found)}` : '';
    lines.push(`  ${f.status === 'mismatch' ? 'MISMATCH' : 'unverifiable'}  ${f.check}${f.subject ? ` (${f.subject})` : ''}${at}: ${f.detail}${diff.length > 400 ? diff.slice(0, 400) + '…' : diff}`);
  }
  return lines.join('\n') + '\n';
}
