import * as os from 'node:os';
import { intOption, ParsedArgs, rejectUnknown, UsageError } from '../args';
import { runIngestBench } from '../bench/ingest';
import { runProxyBench } from '../bench/proxy';
import { runReplayBench } from '../bench/replay';
import { parseFaults, runSoak } from '../bench/soak';
import { runWalBench } from '../bench/wal';
import { startRuntime } from '../runtime';

/** rewind bench <ingest|proxy|replay|soak|wal> [options] */
export async function benchCommand(args: ParsedArgs): Promise<number> {
  const which = args.positionals[0];
  if (which === 'proxy') {
    rejectUnknown(args, ['sessions', 'frames-per-sec', 'seconds', 'frame-bytes', 'runs', 'profile']);
    const sessions = intOption(args, 'sessions', 200, 1, 5000);
    const framesPerSec = intOption(args, 'frames-per-sec', 20, 1, 1000);
    const seconds = intOption(args, 'seconds', 20, 1, 3600);
    const frameBytes = intOption(args, 'frame-bytes', 800, 64, 1_000_000);
    const runs = intOption(args, 'runs', 3, 1, 20);
    // The real recorder line writes to Postgres (a scratch database on this server); no Redis (no live captures).
    const runtime = await startRuntime({ redis: false });
    try {
      const result = await runProxyBench({
        serverUrl: runtime.databaseUrl,
        sessions,
        framesPerSec,
        seconds,
        frameBytes,
        runs,
        profile: args.options.get('profile') === true,
        out: (line) => process.stdout.write(line + '\n'),
      });
      return result.goalMet ? 0 : 1;
    } finally {
      await runtime.services.stop();
    }
  }
  if (which === 'replay') {
    rejectUnknown(args, ['sessions', 'seconds', 'seeks', 'runs', 'workers', 'client', 'skip-floor']);
    const clientOpt = args.options.get('client');
    if (clientOpt !== undefined && clientOpt !== 'ws' && clientOpt !== 'raw') throw new UsageError(`--client must be ws or raw (got ${String(clientOpt)})`);
    const runtime = await startRuntime();
    try {
      const result = await runReplayBench({
        serverUrl: runtime.databaseUrl,
        redisUrl: runtime.redisUrl,
        sessions: intOption(args, 'sessions', 500, 1, 5000),
        seconds: intOption(args, 'seconds', 20, 1, 3600),
        seeks: intOption(args, 'seeks', 50, 1, 10_000),
        runs: intOption(args, 'runs', 3, 1, 20),
        // The API on every core of the machine by default (REWIND_API_WORKERS in production).
        workers: intOption(args, 'workers', os.cpus().length, 1, 64),
        ...(clientOpt !== undefined ? { client: clientOpt } : {}),
        // The floor line (a bare ws server with the events in memory) runs unless skipped.
        floor: args.options.get('skip-floor') !== true,
        out: (line) => process.stdout.write(line + '\n'),
      });
      return result.goalMet ? 0 : 1;
    } finally {
      await runtime.services.stop();
    }
  }
  if (which === 'soak') {
    rejectUnknown(args, ['sessions', 'seconds', 'faults', 'replays']);
    const faultsOpt = args.options.get('faults');
    const faults = parseFaults(typeof faultsOpt === 'string' ? faultsOpt : undefined);
    const runtime = await startRuntime();
    try {
      const result = await runSoak({
        serverUrl: runtime.databaseUrl,
        redisUrl: runtime.redisUrl,
        sessions: intOption(args, 'sessions', 1000, 1, 20_000),
        seconds: intOption(args, 'seconds', 60, 5, 24 * 3600),
        replays: intOption(args, 'replays', 50, 0, 5000),
        faults,
        out: (line) => process.stdout.write(line + '\n'),
      });
      return result.ok ? 0 : 1;
    } finally {
      await runtime.services.stop();
    }
  }
  if (which === 'wal') {
    rejectUnknown(args, ['events', 'body-bytes', 'runs']);
    const result = runWalBench({
      events: intOption(args, 'events', 100_000, 1, 10_000_000),
      bodyBytes: intOption(args, 'body-bytes', 850, 16, 1_000_000),
      runs: intOption(args, 'runs', 3, 1, 20),
      out: (line) => process.stdout.write(line + '\n'),
    });
    return result.leftOver === 0 ? 0 : 1;
  }
  if (which !== 'ingest') {
    throw new UsageError(`rewind bench needs a benchmark name: ingest, proxy, replay, soak or wal${which ? ` (unknown: ${which})` : ''}`);
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
