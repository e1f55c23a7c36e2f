import type { RewindConfig } from '@rewind/config';
import { loadOrCreateRedactionKey } from '@rewind/capture';
import type { PipelineOptions } from './options';
import type { RelayLogger } from './relay';
import { RunningPipeline, startPipeline } from './service';

export interface PipelineRuntime {
  config: RewindConfig;
  databaseUrl: string;
  redisUrl: string;
}

/** The pipeline options of this installation, from the (validated) configuration. */
export function pipelineOptionsFromConfig(runtime: PipelineRuntime, log: RelayLogger, o: { workers?: boolean } = {}): PipelineOptions {
  const { config } = runtime;
  const p = config.pipeline;
  return {
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
  };
}

/** The outcome pipeline of this installation, from the configuration (relay + workers in this process). */
export function startPipelineFromConfig(runtime: PipelineRuntime, log: RelayLogger, o: { workers?: boolean } = {}): Promise<RunningPipeline> {
  return startPipeline(pipelineOptionsFromConfig(runtime, log, o));
}
