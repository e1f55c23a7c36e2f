import type { DynamicModule } from '@nestjs/common';
import { REWIND_CONFIG, RewindConfig, withRewindConfig } from '@rewind/config';
import { loadOrCreateRedactionKey } from '@rewind/redaction';
import type { PipelineOptions } from './options';
import { PipelineModule } from './pipeline.module';
import type { RelayLogger } from './relay';
import { createPipelineContextOf, RunningPipeline, runningPipeline } from './service';

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

/**
 * PipelineModule configured from REWIND_CONFIG (`pipelineOptionsFromConfig` in the factory): the application
 * imports RewindConfigModule (`withRewindConfig`), which validated the configuration.
 */
export function pipelineModuleFromConfig(log: RelayLogger, o: { workers?: boolean } = {}): DynamicModule {
  return PipelineModule.forRootAsync({
    inject: [REWIND_CONFIG],
    useFactory: (config: RewindConfig) => {
      if (!config.databaseUrl || !config.redisUrl) throw new Error('the pipeline needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
      return pipelineOptionsFromConfig({ config, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl }, log, o);
    },
    ...(o.workers === false ? { workers: false } : {}),
  });
}

/**
 * The outcome pipeline of this installation (relay + workers in this process) in an application context of its
 * own: RewindConfigModule with `runtime`'s configuration (the embedded services' URLs filled in) and
 * `pipelineModuleFromConfig`.
 */
export async function startPipelineFromConfig(runtime: PipelineRuntime, log: RelayLogger, o: { workers?: boolean } = {}): Promise<RunningPipeline> {
  const config: RewindConfig = { ...runtime.config, databaseUrl: runtime.databaseUrl, redisUrl: runtime.redisUrl };
  const app = await createPipelineContextOf(withRewindConfig([pipelineModuleFromConfig(log, o)], config), log);
  return runningPipeline(app, o.workers !== false);
}
