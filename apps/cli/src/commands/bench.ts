import { intOption, ParsedArgs, rejectUnknown, UsageError } from '../args';
import { runIngestBench } from '../bench/ingest';
import { startRuntime } from '../runtime';

/** rewind bench <ingest> [options] */
export async function benchCommand(args: ParsedArgs): Promise<number> {
  const which = args.positionals[0];
  if (which !== 'ingest') {
    throw new UsageError(`rewind bench needs a benchmark name: ingest${which ? ` (unknown: ${which})` : ''}`);
  }
  rejectUnknown(args, ['events', 'sessions', 'body-bytes', 'batch', 'runs', 'writers']);
  const runtime = await startRuntime({ redis: false });
  const result = await runIngestBench({
    serverUrl: runtime.databaseUrl,
    events: intOption(args, 'events', 200_000),
    sessions: intOption(args, 'sessions', 100),
    bodyBytes: intOption(args, 'body-bytes', 800, 64, 1_000_000),
    batchSize: intOption(args, 'batch', 2000, 1, 100_000),
    runs: intOption(args, 'runs', 3, 1, 20),
    writers: intOption(args, 'writers', 1, 1, 16),
    out: (line) => process.stdout.write(line + '\n'),
  });
  await runtime.services.stop();
  return result.ratio >= 0.5 ? 0 : 1;
}
