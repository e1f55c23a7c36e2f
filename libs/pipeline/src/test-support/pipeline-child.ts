/**
 * Test fixture: a pipeline process of its own (relay + workers), for the crash tests of
 * `pipeline-faults.int-spec.ts`. Run with `node -r scripts/register.js pipeline-child.ts`; its options come
 * as JSON in `REWIND_PIPELINE_CHILD` ({databaseUrl, redisUrl, prefix, keyHex, rewardsUrl, moltstationUrl?,
 * requestTimeoutMs, attempts}). Prints `ready` on stdout once started; every log line goes to stderr.
 * Meant to be SIGKILLed; SIGTERM closes it cleanly.
 */
import { startPipeline } from '../service';

interface ChildOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  keyHex: string;
  rewardsUrl: string;
  moltstationUrl?: string;
  requestTimeoutMs: number;
  attempts: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.env['REWIND_PIPELINE_CHILD'] ?? '{}') as ChildOptions;
  const line = (level: string) => (m: string) => process.stderr.write(`[pipeline-child ${level}] ${m}\n`);
  const pipeline = await startPipeline({
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    key: Buffer.from(o.keyHex, 'hex'),
    rewardsUrl: o.rewardsUrl,
    ...(o.moltstationUrl ? { moltstationUrl: o.moltstationUrl } : {}),
    retry: { attempts: o.attempts, backoffMs: 100, maxBackoffMs: 400 },
    concurrency: 4,
    requestTimeoutMs: o.requestTimeoutMs,
    relayIntervalMs: 50,
    ...(o.lockDurationMs ? { lockDurationMs: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs ? { stalledIntervalMs: o.stalledIntervalMs } : {}),
    log: { info: line('info'), warn: line('warn'), error: line('error') },
  });
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    void pipeline.close().finally(() => process.exit(0));
  });
}

main().catch((e) => {
  process.stderr.write(`[pipeline-child] failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
