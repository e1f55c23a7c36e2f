import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { EventStore, verifySession, importSession, PortableError } from '@rewind/event-store';
import { ParsedArgs, rejectUnknown, UsageError } from '../args';
import { openPool, startRuntime } from '../runtime';
import { progressBar } from './export';

const USAGE = 'usage: rewind import <file>   (- reads stdin)';

/**
 * rewind import <file>: reads a rewind-export/1 file into the database (one transaction; a refused file
 * leaves nothing), then re-verifies the stored chain. Exit 1 for a bad file (naming the line) or a conflict.
 */
export async function importCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, []);
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(USAGE);
  if (file !== '-') {
    const problem = await stat(file).then(
      (s) => (s.isFile() ? null : 'not a file'),
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    if (problem) {
      process.stderr.write(`rewind: cannot read ${file}: ${problem}\n`);
      return 1;
    }
  }

  const runtime = await startRuntime({ redis: false });
  const pool = openPool(runtime, 2);
  const progress = progressBar('imported');
  try {
    const store = new EventStore(pool);
    const input = file === '-' ? process.stdin : createReadStream(file);
    let result;
    try {
      result = await importSession(store, input, { onProgress: progress.update });
    } catch (e) {
      progress.clear();
      if (e instanceof PortableError) {
        process.stderr.write(`rewind: import of ${file} refused: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    progress.clear();
    const report = await verifySession(store, result.sessionId);
    const chain = report?.ok ? 'chain ok' : `chain BROKEN at seq ${report?.firstBreak?.seq} (${report?.firstBreak?.reason})`;
    const what = result.status === 'imported' ? 'imported session' : 'session';
    const note = result.status === 'already-imported' ? ' (already imported: nothing written)' : '';
    process.stdout.write(`${what} ${result.sessionId}: ${result.events} events, ${chain}${result.sealed ? ', sealed' : ''}${note}\n`);
    return report?.ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}
