import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { progress, ProgressOutput } from '../progress';
import { EventStore, exportSession, ExportProgress, PortableError, PortableErrorCode } from '@rewind/event-store';
import { ParsedArgs, rejectUnknown, UsageError } from '../args';
import { openPool, startRuntime } from '../runtime';

const USAGE = 'usage: rewind export <sessionId> [-o file]   (stdout without -o)';

/** rewind export <sessionId> [-o file]: writes the session as rewind-export/1 NDJSON (docs/export-format.md). */
export async function exportCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['o', 'output']);
  const [id, ...extra] = args.positionals;
  if (id === undefined || extra.length > 0) {
    throw new UsageError(extra.includes('-o') ? `${USAGE}\n(-o was not parsed as an option: it must be in the CLI's VALUE_OPTIONS)` : USAGE);
  }
  const file = args.options.get('o') ?? args.options.get('output');
  if (file === true || file === '') throw new UsageError(`-o needs a file name\n${USAGE}`);

  const runtime = await startRuntime({ redis: false });
  const pool = openPool(runtime, 2);
  const progress = progressBar('exported');
  // A file is written under a temporary name and renamed when complete: no half-written export is left.
  const partial = file === undefined ? null : `${file}.partial-${process.pid}`;
  const out: Writable = partial === null ? process.stdout : createWriteStream(partial);
  try {
    const result = await exportSession(new EventStore(pool), id, out, { onProgress: progress.update });
    progress.clear();
    if (partial !== null && file !== undefined) {
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      await rename(partial, file);
    } else {
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    }
    process.stderr.write(`exported session ${result.sessionId}: ${result.events} events, ${result.bytes} bytes, head ${result.headHash.slice(0, 16)}… to ${file ?? 'stdout'}\n`);
    return 0;
  } catch (e) {
    progress.clear();
    if (partial !== null) {
      out.destroy();
      await unlink(partial).catch(() => undefined);
    }
    if (e instanceof PortableError && (e.code === PortableErrorCode.SessionNotFound || e.code === PortableErrorCode.ChainBroken)) {
      process.stderr.write(`rewind: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await pool.end();
  }
}

/** Where the bar is drawn: stderr, or anything with `isTTY` and `write` (tests). */
export type { ProgressOutput };

/** The export/import progress bar (cli-progress): on stderr, only when stderr is a terminal and the session is long. */
export function progressBar(verb: string, minTotal = 5000, out: ProgressOutput = process.stderr): { update: (p: ExportProgress) => void; clear: () => void } {
  const bar = progress(`[{bar}] {value}/{total} events ${verb}`, minTotal, out);
  return { update: (p) => bar.update(p.events, p.total), clear: bar.clear };
}
