import { EventStore, verifySession, VerifyReport } from '@rewind/event-store';
import { ParsedArgs, rejectUnknown, UsageError } from '../args';
import { openPool, startRuntime } from '../runtime';

/** rewind verify <sessionId|--all> [--json]: recomputes hash chains; exits 1 if any link is broken. */
export async function verifyCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['all', 'json']);
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
    return failed === 0 ? 0 : 1;
  } finally {
    await pool.end();
  }
}
