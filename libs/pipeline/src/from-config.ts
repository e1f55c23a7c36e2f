import type { RewindConfig } from '@rewind/config';
import { loadOrCreateRedactionKey } from '@rewind/capture';
import type { RelayLogger } from './relay';
import { RunningPipeline, startPipeline } from './service';

/** The outcome pipeline of this installation, from the configuration (relay + workers in this process). */
export function startPipelineFromConfig(
  runtime: { config: RewindConfig; databaseUrl: string; redisUrl: string },
  log: RelayLogger,
  o: { workers?: boolean } = {},
): Promise<RunningPipeline> {
  const { config } = runtime;
  const p = config.pipeline;
  return startPipeline({
    databaseUrl: runtime.databaseUrl,
    redisUrl: runtime.redisUrl,
    prefix: p.queuePrefix,
    key: config.redactionKeyHex ? Buffer.from(config.redactionKeyHex, 'hex') : loadOrCreateRedactionKey(config.dataDir),
    rewardsUrl: p.rewardsUrl,
    ...(p.rewardsApiKey ? { rewardsApiKey: p.rewardsApiKey } : {}),
    moltstationUrl: config.upstreams.moltstation,
    retry: { attempts: p.attempts, backoffMs: p.backoffMs, maxBackoffMs: p.maxBackoffMs },
    concurrency: p.concurrency,
    requestTimeoutMs: p.requestTimeoutMs,
    ...(o.workers === false ? { workers: false } : {}),
    log,
  });
}
